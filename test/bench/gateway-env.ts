/**
 * Environment for gateways under load: the bench drives thousands of requests a second from one
 * address (wrk on 127.0.0.1) and connects 100 simulated agents at once, far past the default rate
 * limits (README: Security model). Measured capacity is the point here, so the limits are off.
 */
export const NO_RATE_LIMITS: Record<string, string> = {
  RATE_LIMIT_IP_PER_SECOND: '0',
  RATE_LIMIT_USER_PER_SECOND: '0',
  RATE_LIMIT_AGENT_PER_MINUTE: '0',
}

/**
 * How the bench starts gateways: Node runs the build (`node dist/cli.js serve`, what the README
 * tells Node users to run) rather than the sources through tsx. The bench calls `ensureBuilt()`
 * first. Measured on this machine: the same gateway under tsx held ~25 MiB more RSS under load
 * (164–166 vs 136–144 MiB); CPU per request was within noise.
 */
export const GATEWAY_START = { built: true } as const
