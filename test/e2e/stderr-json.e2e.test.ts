/**
 * Everything the gateway and the agent print on stderr is one JSON object per line, also when
 * things break: a tunnel dying in the middle of an SSE stream and a large download (the agent
 * SIGKILLed; separately, the local service SIGKILLed) gives exactly one `error` event per cut
 * request naming its requestId, user and reason, and no runtime print or stack trace; an
 * exception nobody catches and a promise rejection nobody handles become one `error` event each
 * and the gateway keeps serving. Gateway and agent on Bun, Deno and Node, at LOG_LEVEL=debug (the
 * startup banner is on stdout, README "Logs").
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { eventually, within } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll, type GatewayProc, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

const SLOW_TEST_MS = 90_000
const BOUND_MS = 15_000
const DEBUG = { LOG_LEVEL: 'debug' }

afterEach(stopAll)

type Line = Record<string, unknown>

/** Every non-empty line of `text` parsed as a JSON object; a line that is not one fails the test with it. */
function jsonLines(who: string, text: string): Line[] {
  const lines = text.split('\n').filter((l) => l !== '')
  const raw = lines.filter((l) => {
    try {
      const v: unknown = JSON.parse(l)
      return typeof v !== 'object' || v === null || Array.isArray(v)
    } catch {
      return true
    }
  })
  expect({ who, raw }).toEqual({ who, raw: [] })
  return lines.map((l) => JSON.parse(l) as Line)
}

/** An SSE stream and a 1 GiB download in flight through alice's tunnel, each read slowly; their request ids and how each ends. */
async function streamsInFlight(gw: GatewayProc, token: string) {
  const auth = { authorization: `Bearer ${token}` }
  const open = async (path: string) => {
    const res = await fetch(`${gw.url}/t/alice${path}`, { headers: auth })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    expect((await reader.read()).done).toBe(false)
    const ended = (async () => {
      try {
        for (;;) {
          if ((await reader.read()).done) return 'ended cleanly'
          await new Promise((r) => setTimeout(r, 5))
        }
      } catch {
        return 'aborted'
      }
    })()
    return { id: res.headers.get('x-request-id')!, ended }
  }
  return [await open('/sse?n=100000&every=20'), await open(`/download?size=${2 ** 30}`)]
}

/** The one error-level event per cut request, and every stderr line of `procs` JSON. */
async function expectOneErrorEach(gw: GatewayProc, streams: Awaited<ReturnType<typeof streamsInFlight>>, reason: RegExp, others: { who: string; stderr: () => string }[]): Promise<void> {
  for (const s of streams) expect(await within(s.ended, BOUND_MS, 'the stream to end')).toBe('aborted')
  const errorsOf = (id: string) => jsonLines('gateway', gw.proc.stderr()).filter((l) => l.level === 'error' && l.requestId === id)
  await eventually('an error event per cut request', () => (streams.every((s) => errorsOf(s.id).length > 0) ? true : undefined), BOUND_MS)
  // Late prints (a runtime reporting a stream error on its own) would come now: the gateway still serves.
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200)
  await new Promise((r) => setTimeout(r, 500))
  for (const s of streams) {
    const events = errorsOf(s.id)
    expect(events.length).toBe(1)
    expect(events[0]).toMatchObject({ event: 'upstream_cut', user: 'alice' })
    expect(String(events[0]!.reason)).toMatch(reason)
  }
  for (const o of others) jsonLines(o.who, o.stderr())
}

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`gateway and agent on ${runtime}`, () => {
    test(
      'the agent SIGKILLed mid-stream: one error event per cut request (requestId, user, reason), every stderr line JSON',
      async () => {
        const origin = await startOrigin()
        const gw = await startGateway(runtime, DEBUG)
        const token = await tokenFor('alice')
        const agent = await startAgent(gw.url, token, origin.url, { runtime, env: DEBUG })
        const streams = await streamsInFlight(gw, token)
        agent.proc.kill('SIGKILL')
        await expectOneErrorEach(gw, streams, /agent/, [{ who: 'agent', stderr: () => agent.proc.stderr() }])
      },
      SLOW_TEST_MS,
    )

    test(
      'the local service SIGKILLed mid-stream: one error event per cut request, every stderr line of gateway and agent JSON',
      async () => {
        const origin = await startOrigin()
        const gw = await startGateway(runtime, DEBUG)
        const token = await tokenFor('alice')
        const agent = await startAgent(gw.url, token, origin.url, { runtime, env: DEBUG })
        const streams = await streamsInFlight(gw, token)
        origin.proc.kill('SIGKILL')
        await expectOneErrorEach(gw, streams, /local service/, [{ who: 'agent', stderr: () => agent.proc.stderr() }])
        // The agent is still there for the next request (a 502: nothing listens any more).
        const next = await fetch(`${gw.url}/t/alice/hello`, { headers: { authorization: `Bearer ${token}` } })
        expect(next.status).toBe(502)
        jsonLines('gateway', gw.proc.stderr())
        jsonLines('agent', agent.proc.stderr())
      },
      SLOW_TEST_MS,
    )

    test(
      'an exception nobody catches and a rejection nobody handles: one error event each, and the gateway keeps serving',
      async () => {
        const gw = await startGateway(runtime, DEBUG, { entry: 'test/fixtures/escaping-cli.ts' })
        const lines = await eventually('both faults logged', () => {
          const l = jsonLines('gateway', gw.proc.stderr())
          return l.some((x) => x.event === 'uncaught_exception') && l.some((x) => x.event === 'unhandled_rejection') ? l : undefined
        }, BOUND_MS)
        const thrown = lines.filter((l) => l.event === 'uncaught_exception')
        expect(thrown.length).toBe(1)
        expect(thrown[0]).toMatchObject({ level: 'error', message: 'thrown on purpose\nwith a second line' })
        const rejected = lines.filter((l) => l.event === 'unhandled_rejection')
        expect(rejected.length).toBe(1)
        expect(rejected[0]).toMatchObject({ level: 'error', message: 'rejected on purpose' })
        expect((await fetch(`${gw.url}/healthz`)).status).toBe(200)
        expect(gw.proc.child.exitCode).toBeNull()
        jsonLines('gateway', gw.proc.stderr())
      },
      SLOW_TEST_MS,
    )
  })
}
