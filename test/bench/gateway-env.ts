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

/**
 * Bun's allocator as Burrow ships it: the Dockerfile's ENV and `npm start` set
 * MIMALLOC_PURGE_DELAY=-1 (mimalloc keeps freed pages instead of giving them back to the OS and
 * faulting them in again; docs/DEPLOY.md, "Bun's allocator"), so the bench's Burrow gateways and
 * agents run with it. test/deploy/allocator.test.ts keeps the three equal. Deno and Node ignore it.
 * The `burrow-bun-purging` target runs without it: Bun's default (purge_delay 100 ms), the
 * "before" in the same run.
 */
export const SHIPPED_BUN_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: '-1' }

/** Bun's own default, as `MIMALLOC_VERBOSE=1 bun -e 1` prints it (option 'purge_delay': 100). */
export const BUN_DEFAULT_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: '100' }
