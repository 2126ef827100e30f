/**
 * RSS per idle agent connection: a fresh gateway, its VmRSS, then N simulated agents (another
 * process, one user each) connected and registered, a pause for the heap to settle, VmRSS again.
 */
import { join } from 'node:path'
import { runtimeCommand, startGateway, TEST_ADMIN_TOKEN, type RuntimeName } from '../support/processes.ts'
import { rssKiB, sleep, spawnLogged, stopOwned, until } from './procs.ts'
import { NO_RATE_LIMITS, GATEWAY_START, SHIPPED_BUN_ENV } from './gateway-env.ts'

export interface IdleRssResult {
  readonly connections: number
  readonly wanted: number
  readonly beforeKiB: number
  readonly afterKiB: number
  readonly perConnKiB: number
  /** ms the simulated agents took to get all connections up. */
  readonly connectMs: number
  /** What the gateway's /admin/stats counted. */
  readonly gatewayCounted: number | undefined
  readonly failures: string[]
  readonly gatewayOutput: string | undefined
}

export async function measureIdleRss(runtime: RuntimeName, wanted: number, settleMs: number, workDir: string, tag: string): Promise<IdleRssResult> {
  const gw = await startGateway(runtime, { ...NO_RATE_LIMITS, ...SHIPPED_BUN_ENV, BURROW_DATA_DIR: join(workDir, `data-idle-${runtime}-${tag}`) }, GATEWAY_START)
  const log = join(workDir, `idle-agents-${runtime}-${tag}.log`)
  try {
    // Let the freshly started runtime settle before the baseline.
    await fetch(`${gw.url}/healthz`).then((r) => r.arrayBuffer())
    await sleep(settleMs)
    const beforeKiB = rssKiB(gw.proc.child.pid!)
    const [cmd, args] = runtimeCommand('bun', 'test/bench/sim-agents.ts', [gw.url, String(wanted), 'idle', '600'])
    const sim = spawnLogged(`idle-agents-${runtime}`, cmd, args, log)
    try {
      const ok = await until(async () => {
        if (sim.child.exitCode !== null) throw new Error('idle-agents exited')
        return /ready \d+/.test(sim.log())
      }, 180_000, 100)
      const out = sim.log()
      const m = /ready (\d+) (\d+) failed (\d+)/.exec(out)
      if (!ok || m === null) throw new Error(`idle agents did not come up:\n${out.slice(-2000)}\ngateway: ${gw.proc.output().slice(-2000)}`)
      await sleep(settleMs)
      const afterKiB = rssKiB(gw.proc.child.pid!)
      const connections = Number(m[1])
      let gatewayCounted: number | undefined
      try {
        const stats = (await (await fetch(`${gw.url}/admin/stats`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { pool?: { connections?: number } }
        gatewayCounted = stats.pool?.connections
      } catch {}
      const failures = out
        .split('\n')
        .filter((l) => l.startsWith('failed '))
        .slice(0, 10)
      return {
        connections,
        wanted,
        beforeKiB,
        afterKiB,
        perConnKiB: connections > 0 ? (afterKiB - beforeKiB) / connections : Number.NaN,
        connectMs: Number(m[2]),
        gatewayCounted,
        failures,
        // When agents fail, what the gateway said (it may have crashed).
        gatewayOutput: failures.length > 0 || gw.proc.child.exitCode !== null ? `exit ${gw.proc.child.exitCode ?? gw.proc.child.signalCode ?? 'running'}: ${gw.proc.output().slice(-3000)}` : undefined,
      }
    } finally {
      await stopOwned(sim)
    }
  } finally {
    gw.proc.kill('SIGKILL')
    await gw.proc.exited()
  }
}
