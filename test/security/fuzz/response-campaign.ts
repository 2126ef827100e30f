/**
 * The response-direction fuzz campaign: `count` cases (response-plan.ts) in batches, each case a
 * consumer request through the gateway and a Bun agent to the fuzz-origin, judged by
 * response-oracle.ts; a monitor alongside checks every second that the gateway is alive and that
 * /healthz and bob's tunnel answer; after each batch, response-stage.ts's checks.
 */
import { alive, rssOf } from '../support/harness.ts'
import { probeOnce, type CampaignReport } from './campaign.ts'
import { consumerExchange, readReply } from './consumer-reply.ts'
import { judge, type Verdict } from './response-oracle.ts'
import { planFor, type ResponsePlan } from './response-plan.ts'
import { checkBatch, type ResponseStage } from './response-stage.ts'

export interface ResponseCampaignOptions {
  readonly count: number
  readonly seed: number
  readonly concurrency: number
  /** Cases between two rounds of checkBatch. */
  readonly batch: number
}

/** A consumer waits at most this long for a case (the longest legitimate one takes about 2 s). */
const CASE_CAP_MS = 5000
const PROBE_EVERY_MS = 1000
/** Kinds of failure kept in the report, each with a count and its first example. */
const KEEP_KINDS = 40

export interface ResponseReport extends CampaignReport {
  /** What the fuzz-origin counted: connections, requests, and requests on a kept-alive connection. */
  readonly origin: { readonly connections: number; readonly requests: number; readonly reused: number }
}

export async function fuzzResponses(rs: ResponseStage, opts: ResponseCampaignOptions): Promise<ResponseReport> {
  const { stage } = rs
  const pid = stage.gw.proc.child.pid!
  const outcomes: Record<string, number> = {}
  // The same bug fails many cases: keep one example per kind (the rule broken, numbers aside).
  const kinds = new Map<string, { count: number; example: string }>()
  const report = (why: string, kind = why) => {
    const key = kind.replace(/\d+/g, 'N').slice(0, 160)
    const seen = kinds.get(key)
    if (seen !== undefined) seen.count++
    else if (kinds.size < KEEP_KINDS) kinds.set(key, { count: 1, example: why })
  }
  let peak = rs.rssBefore
  let probes = 0
  let done = false
  const started = Date.now()
  const monitor = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS))
      if (!alive(stage.gw.proc)) return void report(`${stage.runtime} response: the gateway exited (${stage.gw.proc.child.exitCode ?? stage.gw.proc.child.signalCode})`)
      peak = Math.max(peak, rssOf(pid))
      const probe = await probeOnce(stage)
      probes++
      if (probe !== 'ok') report(`${stage.runtime} response: ${probe} after ${Date.now() - started} ms`)
    }
  })()
  for (let from = 0; from < opts.count && alive(stage.gw.proc); from += opts.batch) {
    const to = Math.min(opts.count, from + opts.batch)
    let next = from
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < to) {
          const plan = planFor(opts.seed, next++)
          const verdict = await runCase(rs, plan)
          outcomes[verdict.outcome] = (outcomes[verdict.outcome] ?? 0) + 1
          for (const why of verdict.failures) report(`${stage.runtime} response: ${describe(plan)}: ${why}`, why)
        }
      }),
    )
    for (const why of await checkBatch(rs, `after cases ${from}-${to - 1} (seed ${opts.seed})`)) report(why, why.replace(/^.*?\): /, '').replace(/: .*/, ''))
    peak = Math.max(peak, alive(stage.gw.proc) ? rssOf(pid) : 0)
  }
  done = true
  await monitor
  const failures = [...kinds.values()].map((k) => (k.count === 1 ? k.example : `${k.count}× like ${k.example}`))
  const after = alive(stage.gw.proc) ? rssOf(pid) : 0
  const origin = (await (await fetch(`${stage.originA.url}/fz-stats`)).json()) as ResponseReport['origin']
  return { kind: 'response', runtime: stage.runtime, count: opts.count, durationMs: Date.now() - started, outcomes, rss: { before: rs.rssBefore, peak: Math.max(peak, after), after }, probes, failures, origin }
}

/** Send case `plan`'s request as a consumer and judge the answer. */
export async function runCase(rs: ResponseStage, plan: ResponsePlan): Promise<Verdict> {
  const { stage } = rs
  let head = `${plan.method} /t/alice${plan.path} HTTP/1.1\r\nHost: 127.0.0.1:${stage.gw.port}\r\nAuthorization: Bearer ${stage.alice}\r\nConnection: close\r\n`
  if (plan.requestBody !== undefined) head += `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(plan.requestBody)}\r\n`
  const request = Buffer.from(`${head}\r\n${plan.requestBody ?? ''}`, 'latin1')
  if (plan.consumerLeavesAfterMs !== undefined) {
    await consumerExchange(stage.gw.port, request, plan.consumerLeavesAfterMs)
    return { outcome: 'consumer-left', failures: [] }
  }
  const x = await consumerExchange(stage.gw.port, request, CASE_CAP_MS)
  return judge(plan, x, readReply(x, plan.method))
}

/** How to name a case in a failure, with what it takes to replay it. */
export function describe(plan: ResponsePlan): string {
  const delays = plan.pieces.map((p) => p.delayMs).join('/')
  return `case ${plan.id} (seed ${plan.seed}; ${plan.unmutated ? '' : 'mutated '}seed response ${plan.seedName}, ${plan.bytes.length} bytes in ${plan.pieces.length} writes after ${delays} ms, then ${plan.end}; ${plan.method}; bytes ${JSON.stringify(plan.bytes.toString('latin1', 0, 160))})`
}
