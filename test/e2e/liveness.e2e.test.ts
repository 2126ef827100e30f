/**
 * Keep-alive, stale and idle sweeps with real processes and short intervals: black-holed, frozen
 * and killed agents, surplus idle connections, and reconnects at the connection limit.
 * Timings are printed (`[figure] …`) for the record, never asserted: CI machines vary.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { admin, connectionsOf, countIn, eventually, logLines, waitForTunnelsUp, within } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll, type Origin, type RuntimeName } from '../support/processes.ts'
import { startRelay, type Relay } from '../support/relay.ts'
import { tokenFor } from '../support/tokens.ts'

// Bun applies the preload's setDefaultTimeout to the first test file only: long tests say their own.
const SLOW_TEST_MS = 60_000

const KEEPALIVE_MS = 300
const SWEEP_MS = 300
/** Detection budget of the issue: 3 keep-alive intervals + 1 sweep (a bound for waiting, not an assertion). */
const BUDGET_MS = 3 * KEEPALIVE_MS + SWEEP_MS
const fast = { SSH_KEEPALIVE_INTERVAL: String(KEEPALIVE_MS), CLEANUP_INTERVAL: String(SWEEP_MS), LOG_LEVEL: 'info' }
const agentEnv = { SSH_KEEPALIVE_INTERVAL: String(KEEPALIVE_MS), LOG_LEVEL: 'info' }

const relays: Relay[] = []
afterAll(async () => {
  await Promise.all(relays.map((r) => r.close()))
  await stopAll()
})

let origin: Origin | undefined
const sharedOrigin = async () => (origin ??= await startOrigin())

const figure = (what: string, ms: number) => console.log(`[figure] ${what}: ${ms} ms (budget ${BUDGET_MS} ms)`)

async function hello(gatewayUrl: string, token: string, user = 'alice'): Promise<string> {
  const res = await fetch(`${gatewayUrl}/t/${user}/hello`, { headers: { authorization: `Bearer ${token}` } })
  return `${res.status} ${await res.text()}`
}

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`gateway on ${runtime}`, () => {
    test('a black-holed connection is closed on both sides within 3 keep-alives + 1 sweep, and the agent reconnects', async () => {
      const gw = await startGateway(runtime, fast)
      const relay = await startRelay(gw.port)
      relays.push(relay)
      const alice = await tokenFor('alice')
      const agent = await startAgent(relay.url, alice, (await sharedOrigin()).url, { env: agentEnv })
      const [before] = await connectionsOf(gw.url, 'alice')
      expect(before?.state).toBe('ready')

      const cutAt = Date.now()
      const [pair] = relay.blackhole()
      expect(pair).toBeDefined()
      // Both ends give up on their own: the gateway's sweep, and the agent's silence watchdog.
      await within(Promise.all([pair!.gatewayClosed, pair!.agentClosed]), 10 * BUDGET_MS, 'both sides to close the black-holed connection')
      figure(`${runtime}: black hole → gateway side closed`, pair!.gatewayClosedAt! - cutAt)
      figure(`${runtime}: black hole → agent side closed`, pair!.agentClosedAt! - cutAt)
      const retired = logLines(gw.proc, 'connection_retired')
      expect(retired.map((l) => [l.conn, l.reason])).toEqual([[before!.id, 'stale']])
      // The agent says why once its slot schedules the reconnect, a moment after the socket closed.
      await agent.proc.waitFor(/no sign of life from the gateway/, 5_000)

      await waitForTunnelsUp(agent.proc, 2)
      console.log(`[figure] ${runtime}: black hole → agent serving again: ${Date.now() - cutAt} ms`)
      const after = await connectionsOf(gw.url, 'alice')
      expect(after.map((c) => c.id)).not.toContain(before!.id)
      expect(after).toHaveLength(1)
      expect(await hello(gw.url, alice)).toBe('200 hello from origin ')
    }, SLOW_TEST_MS)
  })
}

describe('gateway on bun: frozen, killed and idle agents', () => {
  test('an agent frozen with SIGSTOP is found stale and closed; after SIGCONT it reconnects', async () => {
    const gw = await startGateway('bun', fast)
    const alice = await tokenFor('alice')
    const agent = await startAgent(gw.url, alice, (await sharedOrigin()).url, { env: agentEnv })
    const [frozen] = await connectionsOf(gw.url, 'alice')
    const stoppedAt = Date.now()
    agent.proc.kill('SIGSTOP')
    try {
      await eventually('the frozen agent to leave /admin/connections', async () => ((await connectionsOf(gw.url, 'alice')).length === 0 ? true : undefined), 10 * BUDGET_MS)
      figure('bun: SIGSTOP → gone from /admin/connections', Date.now() - stoppedAt)
      expect(logLines(gw.proc, 'connection_retired').map((l) => [l.conn, l.reason])).toEqual([[frozen!.id, 'stale']])
      expect(await hello(gw.url, alice)).toStartWith('404 ')
    } finally {
      agent.proc.kill('SIGCONT')
    }
    await waitForTunnelsUp(agent.proc, 2)
    expect(await hello(gw.url, alice)).toBe('200 hello from origin ')
  }, SLOW_TEST_MS)

  test('a killed agent leaves the pool at once on socket close, not at a sweep', async () => {
    // Sweep and keep-alive far away: only the socket closing can take the connection out.
    const gw = await startGateway('bun', { SSH_KEEPALIVE_INTERVAL: '60000', CLEANUP_INTERVAL: '600000', LOG_LEVEL: 'info' })
    const alice = await tokenFor('alice')
    const agent = await startAgent(gw.url, alice, (await sharedOrigin()).url)
    const [killed] = await connectionsOf(gw.url, 'alice')
    const killedAt = Date.now()
    agent.proc.kill('SIGKILL')
    await eventually('the killed agent to leave /admin/connections', async () => ((await connectionsOf(gw.url, 'alice')).length === 0 ? true : undefined), 5_000, 5)
    console.log(`[figure] bun: SIGKILL → gone from /admin/connections: ${Date.now() - killedAt} ms`)
    // The log line travels through a pipe and can land after the admin answer that no longer lists it.
    const closedLines = await eventually('the tunnel_closed log line', () => {
      const lines = logLines(gw.proc, 'tunnel_closed')
      return lines.length > 0 ? lines : undefined
    }, 2_000, 5)
    expect(closedLines.map((l) => l.conn)).toEqual([killed!.id])
    expect(logLines(gw.proc, 'connection_retired')).toEqual([])
    expect(await hello(gw.url, alice)).toStartWith('404 ')
  }, SLOW_TEST_MS)

  test("a surplus idle connection is retired (reason idle) while the user's last one is kept", async () => {
    // MAX_IDLE_TIME at its minimum; sweeps only when asked (POST /admin/cleanup), so the test sees each one.
    const gw = await startGateway('bun', { MAX_IDLE_TIME: '1000', CLEANUP_INTERVAL: '600000', LOG_LEVEL: 'info' })
    const alice = await tokenFor('alice')
    await startAgent(gw.url, alice, (await sharedOrigin()).url, { connections: 2 })
    const both = await connectionsOf(gw.url, 'alice')
    expect(both).toHaveLength(2)
    const closed = await eventually('a cleanup that retires an idle connection', async () => {
      const res = await admin(gw.url, '/admin/cleanup', { method: 'POST' })
      const body = (await res.json()) as { closed: { id: string; user: string; reason: string }[] }
      return body.closed.length > 0 ? body.closed : undefined
    }, 10_000, 100)
    expect(closed).toHaveLength(1)
    expect(closed[0]).toEqual({ id: expect.any(String), user: 'alice', reason: 'idle' })
    const kept = both.find((c) => c.id !== closed[0]!.id)!
    const now = await connectionsOf(gw.url, 'alice')
    expect(now.find((c) => c.id === kept.id)?.state).toBe('ready')
    expect(now.map((c) => c.id)).not.toContain(closed[0]!.id)
    expect(logLines(gw.proc, 'connection_retired').map((l) => [l.conn, l.reason])).toEqual([[closed[0]!.id, 'idle']])
    expect(await hello(gw.url, alice)).toBe('200 hello from origin ')
  }, SLOW_TEST_MS)
})

describe('gateway on bun: a reconnect is never blocked by a stale slot', () => {
  test('an agent whose 3 connections were cut reconnects at the limit by retiring its own dead slots; another agent is refused', async () => {
    // The gateway would take 15 s to find the dead connections stale; the agent notices the cut at once.
    const gw = await startGateway('bun', { SSH_KEEPALIVE_INTERVAL: '5000', CLEANUP_INTERVAL: '600000', LOG_LEVEL: 'info' })
    const relay = await startRelay(gw.port)
    relays.push(relay)
    const alice = await tokenFor('alice')
    const agent = await startAgent(relay.url, alice, (await sharedOrigin()).url, { connections: 3, env: agentEnv })
    const old = (await connectionsOf(gw.url, 'alice')).map((c) => c.id).sort()
    expect(old).toHaveLength(3)

    const cutAt = Date.now()
    const cut = relay.cutAgentSide()
    expect(cut).toHaveLength(3)
    await waitForTunnelsUp(agent.proc, 6)
    console.log(`[figure] bun: 3 connections cut → agent back at 3/3 (gateway had not noticed): ${Date.now() - cutAt} ms`)
    const now = await connectionsOf(gw.url, 'alice')
    expect(now).toHaveLength(3)
    for (const c of now) expect(old).not.toContain(c.id)
    const retired = logLines(gw.proc, 'connection_retired')
    expect(retired.map((l) => [l.conn, l.reason]).sort()).toEqual(old.map((id) => [id, 'replaced']))
    // The dead slots' sockets are closed by the gateway too (they never answer the close frame).
    await within(Promise.all(cut.map((p) => p.gatewayClosed)), 5_000, 'the gateway to close the replaced connections')
    expect(countIn(agent.proc, /user connection limit/)).toBe(0)

    const other = await startAgent(gw.url, alice, (await sharedOrigin()).url, { wait: false })
    await other.proc.waitFor(/user connection limit \(3\)/)
    other.proc.kill()
    expect((await connectionsOf(gw.url, 'alice')).map((c) => c.id).sort()).toEqual(now.map((c) => c.id).sort())
    expect(await hello(gw.url, alice)).toBe('200 hello from origin ')
  }, SLOW_TEST_MS)
})
