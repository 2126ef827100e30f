/**
 * The adaptive agent under a burst: a fresh gateway, an origin with `/slow?ms=`, and a
 * `burrow connect --connections auto` agent that starts with one connection; `concurrency` slow
 * requests are sent at once. Reports how many got 503 (must be 0) and how many connections the
 * agent grew to (polled from /admin/connections while the burst runs).
 */
import { join } from 'node:path'
import { connectionsOf } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { NO_RATE_LIMITS, SHIPPED_BUN_ENV } from './gateway-env.ts'

export interface BurstResult {
  readonly requests: number
  /** Answers by status, e.g. `{ "200": 30 }`. */
  readonly statuses: Record<string, number>
  readonly status503: number
  readonly startedWith: number
  readonly grewTo: number
  /** From the first request sent to the last answer, ms. */
  readonly ms: number
}

export async function measureBurst(runtime: RuntimeName, concurrency: number, slowMs: number, workDir: string, tag: string): Promise<BurstResult> {
  const [origin, gw] = await Promise.all([startOrigin(), startGateway(runtime, { ...NO_RATE_LIMITS, ...SHIPPED_BUN_ENV, BURROW_DATA_DIR: join(workDir, `data-burst-${runtime}-${tag}`) })])
  try {
    const token = await tokenFor('burst')
    const agent = await startAgent(gw.url, token, origin.url, { connections: 'auto', env: { ...SHIPPED_BUN_ENV } })
    try {
      const startedWith = (await connectionsOf(gw.url, 'burst')).length
      let grewTo = startedWith
      let watching = true
      const watch = (async () => {
        while (watching) {
          grewTo = Math.max(grewTo, (await connectionsOf(gw.url, 'burst')).length)
          await new Promise((r) => setTimeout(r, 50))
        }
      })()
      const t0 = performance.now()
      const codes = await Promise.all(
        Array.from({ length: concurrency }, () =>
          fetch(`${gw.url}/t/burst/slow?ms=${slowMs}`, { headers: { authorization: `Bearer ${token}` } }).then(
            async (r) => (await r.arrayBuffer(), String(r.status)),
            () => 'error',
          ),
        ),
      )
      const ms = performance.now() - t0
      watching = false
      await watch
      const statuses: Record<string, number> = {}
      for (const c of codes) statuses[c] = (statuses[c] ?? 0) + 1
      return { requests: concurrency, statuses, status503: statuses['503'] ?? 0, startedWith, grewTo, ms: Math.round(ms) }
    } finally {
      agent.proc.kill()
    }
  } finally {
    gw.proc.kill()
    origin.proc.kill()
  }
}
