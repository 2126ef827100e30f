/**
 * Faithful forwarding, checked by difference: every case is sent to a real origin directly and
 * through the tunnel, and the two answers must match up to the rules the case names (status,
 * headers minus Date and hop-by-hop fields, body bytes, trailers, interim heads, chunk timing).
 * Origins: httpbin under gunicorn (third-party code) and test/fixtures/edge-origin.ts. One gateway
 * per runtime, one Bun agent per origin. Where a runtime's server cannot carry something (103,
 * trailers, a GET body), the case states the documented behaviour there. `DIFF_REPORT=1` prints
 * every difference.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { caseName, runAll, type DiffCase, type Outcome } from '../support/differential-run.ts'
import { HEAD_TIMEOUT_MS, startDiffEnv, startOrigins, type Origins, type RunningDiffEnv } from '../support/differential-env.ts'
import { stopAll, type RuntimeName } from '../support/processes.ts'
import { rawRequest } from '../support/raw-http.ts'
import { EDGE_CASES } from './differential-edge-cases.ts'
import { HTTPBIN_CASES } from './differential-httpbin-cases.ts'

const RUNTIMES: readonly RuntimeName[] = ['bun', 'deno', 'node']
const CASES: readonly DiffCase[] = [...HTTPBIN_CASES, ...EDGE_CASES]
// How long a service may keep a connection its consumer left before the test calls it kept.
// The gateway's head timeout (HEAD_TIMEOUT_MS) would close it later anyway; this bound is shorter.
const NOTICE_BOUND_MS = 2_500

// Started once for all runtimes. A missing httpbin or gunicorn fails every test with what to install.
let origins: Promise<Origins>
beforeAll(() => {
  origins = startOrigins()
  origins.catch(() => undefined)
})
afterAll(async () => {
  await (await origins.catch(() => undefined))?.httpbin.stop()
  await stopAll()
})

interface HangState {
  readonly received: boolean
  readonly closed: boolean
}

/** Poll the edge origin's record of `/hang?id=` until `done` holds or `boundMs` passes; the last state. */
async function pollHang(env: RunningDiffEnv, id: string, done: (s: HangState) => boolean, boundMs: number): Promise<HangState> {
  const read = async () => {
    const res = await fetch(`http://127.0.0.1:${env.targets.edge.port}/control/hang?id=${encodeURIComponent(id)}`)
    const s = (await res.json()) as HangState
    return { received: s.received, closed: s.closed }
  }
  const until = Date.now() + boundMs
  let state = await read()
  while (!done(state) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50))
    state = await read()
  }
  return state
}

/** Ask `/hang` directly and through the tunnel, hang up once it arrived: does the service see the close? */
async function consumerLeaves(env: RunningDiffEnv): Promise<Record<'direct' | 'tunnel', HangState>> {
  const leave = async (port: number, target: string, headers: [string, string][], id: string) => {
    const ac = new AbortController()
    const pending = rawRequest({ port, method: 'GET', target, headers, signal: ac.signal, timeoutMs: 30_000 })
    const arrived = await pollHang(env, id, (s) => s.received, 10_000)
    ac.abort()
    await pending
    const after = await pollHang(env, id, (s) => s.closed, NOTICE_BOUND_MS)
    return { received: arrived.received, closed: after.closed }
  }
  const edge = env.targets.edge
  const id = `${env.runtime}-leave`
  return {
    direct: await leave(edge.port, `/hang?id=${id}-direct`, [['Host', `127.0.0.1:${edge.port}`]], `${id}-direct`),
    tunnel: await leave(env.gatewayPort, `/t/edge/hang?id=${id}-tunnel`, [['Host', `127.0.0.1:${env.gatewayPort}`], ['Authorization', `Bearer ${edge.token}`]], `${id}-tunnel`),
  }
}

/** Ask `/hang` through the tunnel and wait: the gateway's answer, and whether the service's connection was closed. */
async function serviceNeverAnswers(env: RunningDiffEnv): Promise<{ status: number | undefined; code: unknown; service: HangState }> {
  const id = `${env.runtime}-timeout`
  const res = await rawRequest({
    port: env.gatewayPort,
    method: 'GET',
    target: `/t/edge/hang?id=${id}`,
    headers: [['Host', `127.0.0.1:${env.gatewayPort}`], ['Authorization', `Bearer ${env.targets.edge.token}`]],
    timeoutMs: HEAD_TIMEOUT_MS + 15_000,
  })
  let code: unknown
  try {
    code = JSON.parse(res.body.toString('utf8')).error.code
  } catch {
    code = res.body.toString('utf8').slice(0, 200)
  }
  return { status: res.head?.status, code, service: await pollHang(env, id, (s) => s.closed, NOTICE_BOUND_MS) }
}

for (const runtime of RUNTIMES) {
  describe(`differential, gateway on ${runtime}`, () => {
    let env: Promise<RunningDiffEnv>
    let leaves: Promise<Awaited<ReturnType<typeof consumerLeaves>>>
    let neverAnswers: Promise<Awaited<ReturnType<typeof serviceNeverAnswers>>>
    let outcomes: Promise<Map<DiffCase, Promise<Outcome>>>
    beforeAll(() => {
      env = origins.then((o) => startDiffEnv(runtime, o))
      leaves = env.then(consumerLeaves)
      neverAnswers = env.then(serviceNeverAnswers)
      // The hang checks share the gateway with the cases: the `last` phase waits for them.
      outcomes = env.then((e) => runAll(CASES, e, Promise.allSettled([leaves, neverAnswers])))
      for (const p of [leaves, neverAnswers, outcomes]) p.catch(() => undefined)
    })
    afterAll(async () => {
      const e = await env.catch(() => undefined)
      const results = await outcomes.catch(() => undefined)
      if (results !== undefined) {
        const settled = await Promise.all([...results].map(async ([c, p]) => [c, await p.catch((err: Error) => ({ diffs: [String(err)], notes: [] }))] as const))
        const failing = settled.filter(([, o]) => o.diffs.length > 0)
        const notes = [...new Set(settled.flatMap(([, o]) => o.notes))]
        console.log(`differential on ${runtime}: ${settled.length - failing.length}/${settled.length} cases faithful${notes.length > 0 ? `; allowances: ${notes.join('; ')}` : ''}`)
        if (process.env.DIFF_REPORT === '1') for (const [c, o] of failing) console.log(`  ✗ ${caseName(c)}\n      ${o.diffs.join('\n      ')}`)
      }
      if (e !== undefined && !(await fetch(`http://127.0.0.1:${e.gatewayPort}/healthz`).then((r) => r.ok, () => false))) {
        // A gateway that went away explains every later difference: show why it went.
        const code = await Promise.race([e.gateway.exited(), new Promise((r) => setTimeout(() => r('still running'), 2_000))])
        console.log(`the ${runtime} gateway no longer answers /healthz (exit: ${code}):\n${e.gateway.output().slice(-1500)}`)
      }
      e?.stop()
    })

    test('a consumer that hangs up while waiting: the service sees its connection closed, directly and through the tunnel', async () => {
      expect(await leaves).toEqual({ direct: { received: true, closed: true }, tunnel: { received: true, closed: true } })
    })

    test('a service that never answers: 504 upstream_timeout after UPSTREAM_HEAD_TIMEOUT, and the gateway closes its connection', async () => {
      expect(await neverAnswers).toEqual({ status: 504, code: 'upstream_timeout', service: { received: true, closed: true } })
    })

    for (const c of CASES) {
      test(caseName(c), async () => {
        const outcome = await (await outcomes).get(c)!
        expect(outcome.diffs).toEqual([])
      })
    }
  })
}
