/**
 * Many users at once: a fresh gateway, `users` simulated agents (one user each, in another process)
 * that really forward to the origin, and wrk spreading 64 connections' requests round-robin over
 * every user's tunnel with that user's token. Shows whether the pool's per-user bookkeeping holds
 * up next to the one-user small-GET figure.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runtimeCommand, startGateway, TEST_ADMIN_TOKEN, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { runWrk, WRK_SCRIPT, type WrkResult } from './load.ts'
import { cpuSeconds, spawnLogged, stopOwned, tree, until } from './procs.ts'
import { NO_RATE_LIMITS, GATEWAY_START, SHIPPED_BUN_ENV } from './gateway-env.ts'

export interface ManyUsersResult {
  readonly users: number
  readonly up: number
  readonly gatewayCounted: number | undefined
  readonly run: WrkResult
  /** The gateway's CPU-s per 10k requests in the measured run (the pool's bookkeeping is in here). */
  readonly gatewayCpuPer10k: number | undefined
  /** The simulated agents' process, the same way. */
  readonly agentsCpuPer10k: number | undefined
}

/** A wrk script that sends request k to `/t/<prefix>-<k mod n>/1k` with that user's token. */
function usersScript(prefix: string, tokens: string[]): string {
  return [
    `local tokens = { ${tokens.map((t) => JSON.stringify(t)).join(', ')} }`,
    'local n = #tokens',
    'local i = 0',
    'request = function()',
    '  i = i % n + 1',
    `  return wrk.format("GET", "/t/${prefix}-" .. (i - 1) .. "/1k", { ["Authorization"] = "Bearer " .. tokens[i] })`,
    'end',
    readFileSync(WRK_SCRIPT, 'utf8'),
  ].join('\n')
}

export async function measureManyUsers(
  runtime: RuntimeName,
  users: number,
  warmupSeconds: number,
  seconds: number,
  originPort: number,
  workDir: string,
  tag: string,
): Promise<ManyUsersResult> {
  const gw = await startGateway(runtime, { ...NO_RATE_LIMITS, ...SHIPPED_BUN_ENV, BURROW_DATA_DIR: join(workDir, `data-users-${runtime}-${tag}`) }, GATEWAY_START)
  try {
    const [cmd, args] = runtimeCommand('bun', 'test/bench/sim-agents.ts', [gw.url, String(users), 'user', '600', String(originPort)])
    const sim = spawnLogged(`sim-agents-${runtime}`, cmd, args, join(workDir, `users-agents-${runtime}-${tag}.log`))
    try {
      const ok = await until(async () => {
        if (sim.child.exitCode !== null) throw new Error('sim-agents exited')
        return /ready \d+/.test(sim.log())
      }, 120_000, 50)
      const m = /ready (\d+) (\d+) failed (\d+)/.exec(sim.log())
      if (!ok || m === null) throw new Error(`simulated agents did not come up:\n${sim.log().slice(-1500)}\ngateway: ${gw.proc.output().slice(-1500)}`)
      const tokens = await Promise.all(Array.from({ length: users }, (_, i) => tokenFor(`user-${i}`)))
      const script = join(workDir, `wrk-users-${runtime}-${tag}.lua`)
      writeFileSync(script, usersScript('user', tokens))
      if (warmupSeconds > 0) await runWrk(gw.url, {}, 64, warmupSeconds, join(workDir, `wrk-users-warm-${runtime}-${tag}.log`), script)
      const gwPids = tree(gw.proc.child.pid!)
      const simPids = tree(sim.pid)
      const before = cpuSeconds([...gwPids, ...simPids])
      const run = await runWrk(gw.url, {}, 64, seconds, join(workDir, `wrk-users-${runtime}-${tag}.log`), script)
      const after = cpuSeconds([...gwPids, ...simPids])
      const per10k = (pids: number[]) => {
        if (run.requests === 0) return undefined
        let s = 0
        for (const p of pids) s += (after.get(p) ?? 0) - (before.get(p) ?? 0)
        return (s / run.requests) * 10_000
      }
      let gatewayCounted: number | undefined
      try {
        const stats = (await (await fetch(`${gw.url}/admin/stats`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { pool?: { connections?: number } }
        gatewayCounted = stats.pool?.connections
      } catch {}
      return { users, up: Number(m[1]), gatewayCounted, run, gatewayCpuPer10k: per10k(gwPids), agentsCpuPer10k: per10k(simPids) }
    } finally {
      await stopOwned(sim)
    }
  } finally {
    gw.proc.kill('SIGKILL')
    await gw.proc.exited()
  }
}
