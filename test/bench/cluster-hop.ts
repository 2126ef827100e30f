/**
 * The `cluster` workload: gateway instances sharing a private redis-server (REDIS_URL), in one run.
 * - Cost of the hop: an agent on A only; small GETs (64 connections) through A (held there) and
 *   through B (forwarded to A over the internal route), interleaved.
 * - Cores: the same load on one instance holding the tunnel, then split over two instances that
 *   each hold one of the agent's connections (every request served where it lands, no hop).
 * Each step also reports the CPU it cost per 10k requests (both gateways and the agent, from
 * /proc): splitting the load over instances scales with cores only if that figure stays level.
 */
import { join } from 'node:path'
import { runtimeCommand, startGateway, type GatewayProc, type RuntimeName } from '../support/processes.ts'
import { startRedis, type RedisServer } from '../support/redis.ts'
import { tokenFor } from '../support/tokens.ts'
import { NO_RATE_LIMITS, SHIPPED_BUN_ENV } from './gateway-env.ts'
import { runWrk, type WrkResult } from './load.ts'
import { cpuSeconds, spawnLogged, stopOwned, tree, until, type OwnedProc } from './procs.ts'

/** CPU seconds per 10k requests of one step: both gateways together, and the agent. */
export interface StepCpu {
  readonly gateways10k: number
  readonly agent10k: number
}

export interface ClusterFigures {
  readonly same: WrkResult
  readonly hop: WrkResult
  /** 64 connections on one instance holding the tunnel (agent: 2 connections there). */
  readonly one: WrkResult
  /** 2 × 32 connections, on two instances holding one agent connection each. */
  readonly two: readonly [WrkResult, WrkResult]
  readonly cpu: { readonly same: StepCpu; readonly hop: StepCpu; readonly two: StepCpu }
}

async function okThrough(url: string, headers: Record<string, string>): Promise<boolean> {
  return until(async () => {
    const r = await fetch(url, { headers, signal: AbortSignal.timeout(2000) })
    await r.arrayBuffer()
    return r.status === 200
  }, 30_000, 20)
}

export async function measureCluster(runtime: RuntimeName, warmupS: number, seconds: number, originPort: number, workDir: string, tag: string, progress: (m: string) => void): Promise<ClusterFigures> {
  const redis: RedisServer = await startRedis()
  const gws: GatewayProc[] = []
  let agent: OwnedProc | undefined
  try {
    const env = (id: string) => ({ ...NO_RATE_LIMITS, ...SHIPPED_BUN_ENV, REDIS_URL: redis.url, BURROW_INSTANCE_ID: id, BURROW_DATA_DIR: join(workDir, `data-cluster-${id}-${tag}`) })
    const [a, b] = await Promise.all([startGateway(runtime, env('A')), startGateway(runtime, env('B'))])
    gws.push(a!, b!)
    const token = await tokenFor('alice')
    const headers = { authorization: `Bearer ${token}` }
    const origin = `http://127.0.0.1:${originPort}`
    const startAgent = (servers: string, n: number, name: string) => {
      const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['connect', '--server', servers, '--token', token, '--to', origin, '--connections', String(n)])
      return spawnLogged(name, cmd, args, join(workDir, `${name}-${tag}.log`), { ...SHIPPED_BUN_ENV })
    }
    const wrk = (url: string, c: number, s: number, name: string) => runWrk(url, headers, c, s, join(workDir, `wrk-cluster-${name}-${tag}.log`))
    // CPU of both gateways and of the agent over `load`, per 10k of the requests wrk completed.
    const measured = async <T extends WrkResult | WrkResult[]>(load: () => Promise<T>): Promise<[T, StepCpu]> => {
      const gw = [...tree(a!.proc.child.pid!), ...tree(b!.proc.child.pid!)]
      const ag = tree(agent!.pid)
      const before = cpuSeconds([...gw, ...ag])
      const result = await load()
      const after = cpuSeconds([...gw, ...ag])
      const requests = ([] as WrkResult[]).concat(result).reduce((n, r) => n + r.requests, 0)
      const per10k = (pids: number[]) => (requests === 0 ? Number.NaN : (pids.reduce((s, p) => s + (after.get(p) ?? 0) - (before.get(p) ?? 0), 0) / requests) * 10_000)
      return [result, { gateways10k: per10k(gw), agent10k: per10k(ag) }]
    }

    // The hop: agent on A only (2 connections), load through A and through B.
    agent = startAgent(a!.url, 2, 'agent-cluster-a')
    const a0 = agent
    await until(async () => a0.log().includes('connected (2/2)'), 30_000, 20)
    if (!(await okThrough(`${b!.url}/t/alice/1k`, headers))) throw new Error('B never forwarded to A')
    progress(`cluster (${runtime}): warm-up through A and B, ${warmupS} s each`)
    await wrk(`${a!.url}/t/alice/1k`, 64, warmupS, 'warm-a')
    await wrk(`${b!.url}/t/alice/1k`, 64, warmupS, 'warm-b')
    progress(`cluster (${runtime}): small GET, 64 connections, through A (held there), ${seconds} s`)
    const [same, sameCpu] = await measured(() => wrk(`${a!.url}/t/alice/1k`, 64, seconds, 'same'))
    progress(`cluster (${runtime}): small GET, 64 connections, through B (forwarded to A), ${seconds} s`)
    const [hop, hopCpu] = await measured(() => wrk(`${b!.url}/t/alice/1k`, 64, seconds, 'hop'))
    const one = same

    // Two instances each holding one connection: the load split over them, no hop.
    await stopOwned(agent)
    agent = startAgent(`${a!.url},${b!.url}`, 2, 'agent-cluster-ab')
    const ab = agent
    await until(async () => ab.log().includes('connected (2/2)'), 30_000, 20)
    await okThrough(`${b!.url}/t/alice/1k`, headers)
    progress(`cluster (${runtime}): small GET, 2 × 32 connections over A and B (one agent connection each), ${seconds} s`)
    await Promise.all([wrk(`${a!.url}/t/alice/1k`, 32, warmupS, 'warm-two-a'), wrk(`${b!.url}/t/alice/1k`, 32, warmupS, 'warm-two-b')])
    const [two, twoCpu] = await measured(() => Promise.all([wrk(`${a!.url}/t/alice/1k`, 32, seconds, 'two-a'), wrk(`${b!.url}/t/alice/1k`, 32, seconds, 'two-b')]))
    return { same, hop, one, two: two as [WrkResult, WrkResult], cpu: { same: sameCpu, hop: hopCpu, two: twoCpu } }
  } finally {
    if (agent !== undefined) await stopOwned(agent)
    for (const gw of gws) {
      gw.proc.kill('SIGKILL')
      await gw.proc.exited()
    }
    await redis.stop()
  }
}
