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
