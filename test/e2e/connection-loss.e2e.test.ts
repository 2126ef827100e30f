/**
 * When an agent connection dies, whatever rides on it ends at once: a request still waiting for its
 * response head gets 502 (not a 504 at UPSTREAM_HEAD_TIMEOUT, ten minutes by default), a response
 * in the middle of streaming is aborted (never ended as if complete), and the channel slots are
 * released. Every way a connection dies: frozen agent found stale, admin kick, agent killed (its
 * socket closes). Gateway on Bun, Deno and Node. Waits are bounded well below the head timeout;
 * the times are printed, not asserted.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { admin, connectionsOf, eventually, within } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll, type GatewayProc, type Origin, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

const SLOW_TEST_MS = 60_000
const KEEPALIVE_MS = 300
// The head timeout stays at its default (10 minutes): anything this test sees comes from the loss.
const GATEWAY_ENV = { SSH_KEEPALIVE_INTERVAL: String(KEEPALIVE_MS), CLEANUP_INTERVAL: String(KEEPALIVE_MS) }
// Far below the head timeout, far above what the loss takes to notice (3 keep-alives + 1 sweep).
const BOUND_MS = 15_000

afterAll(stopAll)

let origin: Origin | undefined
const sharedOrigin = async () => (origin ??= await startOrigin())

/** What is riding on alice's tunnel when it dies: a request waiting for its head, and an SSE stream. */
async function inFlight(gw: GatewayProc, token: string) {
  const auth = { authorization: `Bearer ${token}` }
  // The origin answers /slow after 60 s: its head is pending when the connection dies.
  const waiting = fetch(`${gw.url}/t/alice/slow?ms=60000`, { headers: auth }).then(async (r) => ({ status: r.status, body: await r.text() }))
  const sse = await fetch(`${gw.url}/t/alice/sse?n=100000&every=20`, { headers: auth })
  expect(sse.status).toBe(200)
  const reader = sse.body!.getReader()
  expect((await reader.read()).done).toBe(false)
  // How the stream ends: an error (aborted), or `done` (which would pass a truncated body off as whole).
  const streamEnd = (async () => {
    try {
      for (;;) if ((await reader.read()).done) return 'ended cleanly'
    } catch {
      return 'aborted'
    }
  })()
  // Both requests hold a channel now.
  await eventually('two busy channels', async () => ((await connectionsOf(gw.url, 'alice'))[0]?.busy === 2 ? true : undefined))
  return { waiting, streamEnd }
}

async function expectEndedAtOnce(runtime: RuntimeName, how: string, gw: GatewayProc, riders: Awaited<ReturnType<typeof inFlight>>, since: number): Promise<void> {
  const waiting = await within(riders.waiting, BOUND_MS, 'the waiting request to end')
  console.log(`[figure] ${runtime}, ${how}: waiting request answered after ${Date.now() - since} ms`)
  expect(waiting.status).toBe(502)
  const error = (JSON.parse(waiting.body) as { error: { code: string; message: string } }).error
  expect(error.code).toBe('upstream_unreachable')
  expect(error.message).toMatch(/agent/)
  expect(await within(riders.streamEnd, BOUND_MS, 'the stream to end')).toBe('aborted')
  // The slots went with the connection: nothing of alice's is busy any more.
  await eventually('no busy channel', async () => ((await connectionsOf(gw.url, 'alice')).every((c) => c.busy === 0) ? true : undefined), BOUND_MS)
}

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`connection loss, gateway on ${runtime}`, () => {
    test('an agent frozen with SIGSTOP: found stale, its waiting request gets 502 and its stream is aborted', async () => {
      const gw = await startGateway(runtime, GATEWAY_ENV)
      const alice = await tokenFor('alice')
      const agent = await startAgent(gw.url, alice, (await sharedOrigin()).url, { env: { SSH_KEEPALIVE_INTERVAL: String(KEEPALIVE_MS) } })
      const riders = await inFlight(gw, alice)
      const since = Date.now()
      agent.proc.kill('SIGSTOP')
      try {
        await expectEndedAtOnce(runtime, 'frozen agent', gw, riders, since)
      } finally {
        agent.proc.kill('SIGCONT')
      }
    }, SLOW_TEST_MS)

    test('an admin kick: the waiting request gets 502 and the stream is aborted at once', async () => {
      const gw = await startGateway(runtime, GATEWAY_ENV)
      const alice = await tokenFor('alice')
      await startAgent(gw.url, alice, (await sharedOrigin()).url)
      const riders = await inFlight(gw, alice)
      const [conn] = await connectionsOf(gw.url, 'alice')
      const since = Date.now()
      expect((await admin(gw.url, `/admin/connections/${conn!.id}`, { method: 'DELETE' })).status).toBe(200)
      await expectEndedAtOnce(runtime, 'admin kick', gw, riders, since)
    }, SLOW_TEST_MS)

    test('an agent killed (its socket closes): the waiting request gets 502 and the stream is aborted', async () => {
      const gw = await startGateway(runtime, GATEWAY_ENV)
      const alice = await tokenFor('alice')
      const agent = await startAgent(gw.url, alice, (await sharedOrigin()).url)
      const riders = await inFlight(gw, alice)
      const since = Date.now()
      agent.proc.kill('SIGKILL')
      await expectEndedAtOnce(runtime, 'agent killed', gw, riders, since)
    }, SLOW_TEST_MS)
  })
}
