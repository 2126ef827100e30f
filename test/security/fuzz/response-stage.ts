/**
 * The stage for the response-direction fuzz: a gateway (Bun, Deno or Node) with short upstream
 * timeouts, alice's tunnel served by the hostile fuzz-origin through a real Bun agent (two
 * connections), and bob's honest tunnel served by a probe origin. `checkBatch` is what must hold
 * after every batch of cases.
 */
import { createHash } from 'node:crypto'
import { connectionsOf } from '../../support/admin.ts'
import { runtimeCommand, startAgent, startGateway, startProcess, type Proc, type RuntimeName } from '../../support/processes.ts'
import { tokenFor } from '../../support/tokens.ts'
import { alive, rssOf, seenBy, startProbeOrigin, type ProbeOrigin, type Stage } from '../support/harness.ts'
import { RSS_GROWTH_BOUND_MIB } from './fuzz-stage.ts'
import { FUZZ_HEAD_TIMEOUT_MS, FUZZ_IDLE_TIMEOUT_MS } from './response-plan.ts'

export interface ResponseStage {
  /** `originA` is the fuzz-origin (alice's tunnel); `originB` bob's honest probe origin. */
  readonly stage: Stage
  readonly agents: readonly Proc[]
  /** Agent connection ids at the start, per user: a malicious service must not make them drop. */
  readonly connIds: string
  /** The gateway's RSS when the stage was ready (bytes). */
  readonly rssBefore: number
  /** How much of each process's output the batch checks have already read. */
  readonly scanned: Map<Proc, number>
}

async function startFuzzOrigin(): Promise<ProbeOrigin> {
  const [cmd, args] = runtimeCommand('node', 'test/fixtures/fuzz-origin.ts', [])
  const proc = startProcess(cmd, args)
  const port = Number((await proc.waitFor(/listening (\d+)/))[1])
  return { name: 'fuzz', proc, port, url: `http://127.0.0.1:${port}` }
}

export async function startResponseStage(runtime: RuntimeName): Promise<ResponseStage> {
  const [originA, originB, gw] = await Promise.all([
    startFuzzOrigin(),
    startProbeOrigin('B'),
    startGateway(runtime, {
      // No circuit breaker: a hostile service fails on purpose, many times in a row.
      CIRCUIT_BREAKER_FAILURES: '0',
      UPSTREAM_HEAD_TIMEOUT: String(FUZZ_HEAD_TIMEOUT_MS),
      UPSTREAM_IDLE_TIMEOUT: String(FUZZ_IDLE_TIMEOUT_MS),
      RATE_LIMIT_IP_PER_SECOND: '0',
      RATE_LIMIT_USER_PER_SECOND: '0',
      RATE_LIMIT_AGENT_PER_MINUTE: '0',
      LOG_LEVEL: 'error',
    }),
  ])
  const [alice, bob] = await Promise.all([tokenFor('alice'), tokenFor('bob')])
  const agents = await Promise.all([startAgent(gw.url, alice, originA.url, { connections: 2 }), startAgent(gw.url, bob, originB.url)])
  await seenBy(originB)
  const stage: Stage = { runtime, gw, alice, bob, originA, originB }
  return { stage, agents: agents.map((a) => a.proc), connIds: await connectionIds(stage), rssBefore: rssOf(gw.proc.child.pid!), scanned: new Map() }
}

async function connectionIds(stage: Stage): Promise<string> {
  const all = await connectionsOf(stage.gw.url)
  return all.map((c) => `${c.user}:${c.id}`).sort().join(' ')
}

// What a crash or an error nobody handled leaves in a process's output.
const TROUBLE = /^.*(?:unhandled|panic|uncaught).*$|^\s+at .+:\d+:\d+\)?$|^(?:\w*Error|error): .*$|^fuzz-origin: .*$/gim

/**
 * After a batch: every process alive, no channel slot left busy once idle, the agents' connections
 * the same ones, bob's tunnel answering correctly (and nothing but probes reaching bob's service),
 * RSS growth within bound, nothing alarming in any output. Returns the broken rules.
 */
export async function checkBatch(rs: ResponseStage, label: string): Promise<string[]> {
  const { stage } = rs
  const failures: string[] = []
  const fail = (why: string) => void failures.push(`${stage.runtime} ${label}: ${why}`)
  for (const proc of [stage.gw.proc, stage.originA.proc, stage.originB.proc, ...rs.agents]) {
    if (!alive(proc)) fail(`${proc.child.spawnargs.slice(-4).join(' ')} exited (${proc.child.exitCode ?? proc.child.signalCode})`)
  }
  if (!alive(stage.gw.proc)) return failures
  // Consumers are gone; the exchanges behind them end within the idle timeout at worst.
  const deadline = Date.now() + 3 * FUZZ_IDLE_TIMEOUT_MS + 2000
  let busy = await busyOf(stage)
  while (busy > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    busy = await busyOf(stage)
  }
  if (busy > 0) fail(`${busy} channel slots still busy with no request in flight`)
  const ids = await connectionIds(stage)
  if (ids !== rs.connIds) fail(`agent connections changed: ${rs.connIds} -> ${ids}`)
  const honest = await honestTunnel(stage)
  if (honest !== undefined) fail(honest)
  const strangers = (await seenBy(stage.originB)).requests.filter((r) => r.url !== '/probe' && r.url !== '/after-batch?q=1')
  if (strangers.length > 0) fail(`bob's service received ${strangers.length} requests that were not probes, e.g. ${JSON.stringify(strangers[0]).slice(0, 300)}`)
  const growth = (rssOf(stage.gw.proc.child.pid!) - rs.rssBefore) / 1024 / 1024
  if (growth > RSS_GROWTH_BOUND_MIB) fail(`RSS grew ${growth.toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND_MIB} MiB)`)
  for (const proc of [stage.gw.proc, stage.originA.proc, ...rs.agents]) {
    const out = proc.output()
    const fresh = out.slice(rs.scanned.get(proc) ?? 0)
    rs.scanned.set(proc, out.length)
    const trouble = fresh.match(TROUBLE) ?? []
    if (trouble.length > 0) fail(`${trouble.length} alarming lines in the output of ${proc.child.spawnargs.slice(-3).join(' ')}: ${tally(trouble)}`)
  }
  return failures
}

/** Distinct lines with how often each came, most frequent first (stack traces repeat). */
function tally(lines: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const l of lines) counts.set(l.trim().slice(0, 240), (counts.get(l.trim().slice(0, 240)) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([l, n]) => `${n}× ${l}`).join(' | ')
}

async function busyOf(stage: Stage): Promise<number> {
  return (await connectionsOf(stage.gw.url)).reduce((n, c) => n + c.busy, 0)
}

/** Bob's tunnel answers a POST correctly (like expectHonestTunnel), or why not. */
export async function honestTunnel(stage: Stage): Promise<string | undefined> {
  const body = `honest ${Math.random()}`
  try {
    const res = await fetch(`${stage.gw.url}/t/bob/after-batch?q=1`, { method: 'POST', headers: { authorization: `Bearer ${stage.bob}` }, body, signal: AbortSignal.timeout(5000) })
    const seen = (await res.json()) as { origin?: string; url?: string; bodySha256?: string; rawHeaders?: string[] }
    const sha = createHash('sha256').update(body).digest('hex')
    const ok = res.status === 200 && seen.origin === 'B' && seen.url === '/after-batch?q=1' && seen.bodySha256 === sha && !seen.rawHeaders?.some((h) => h.toLowerCase() === 'authorization')
    return ok ? undefined : `bob's tunnel answered ${res.status} ${JSON.stringify(seen).slice(0, 200)}`
  } catch (err) {
    return `bob's tunnel did not answer: ${(err as Error).message}`
  }
}
