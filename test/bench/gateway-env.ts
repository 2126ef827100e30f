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
 * Bun's allocator as Burrow ships it: the Dockerfile's ENV and `npm start` set these (mimalloc
 * keeps freed memory 10 s, ms, before giving it back to the OS, and does not give back the free
 * parts of pages still in use, instead of purging within 100 ms and faulting the pages in again on
 * the next requests; docs/DEPLOY.md, "Bun's allocator"), so the bench's Burrow gateways and agents
 * run with them. test/deploy (allocator and dockerfile tests) keeps the three equal. Deno and Node ignore them.
 * The `burrow-bun-purging` target runs with Bun's own values instead, the "before" in the same run.
 */
export const SHIPPED_BUN_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: '10000', MIMALLOC_PURGE_HOLES: '0' }

/** Bun's own values, as `MIMALLOC_VERBOSE=1 bun -e 1` prints them (option 'purge_delay': 100, 'purge_holes': 1). */
export const BUN_DEFAULT_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: '100', MIMALLOC_PURGE_HOLES: '1' }
