import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { admin, connectionsOf, eventually, waitForTunnelsUp } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll, type AgentProc, type GatewayProc, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

// Bun applies the preload's setDefaultTimeout to the first test file only: long tests say their own.
const SLOW_TEST_MS = 60_000

describe('admin REST and /metrics (gateway on Bun, one agent)', () => {
  let origin: Origin
  let gw: GatewayProc
  let agent: AgentProc
  let alice: string

  beforeAll(async () => {
    origin = await startOrigin()
    gw = await startGateway('bun', { LOG_LEVEL: 'info' })
    alice = await tokenFor('alice')
    agent = await startAgent(gw.url, alice, origin.url, { env: { LOG_LEVEL: 'info' } })
  }, SLOW_TEST_MS)
  afterAll(stopAll)

  const asAlice = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${alice}` } })

  test('every admin route and /metrics answer 401 unauthorized without the admin token', async () => {
    for (const [method, path] of [['GET', '/admin/stats'], ['GET', '/admin/connections'], ['DELETE', '/admin/connections/x'], ['POST', '/admin/cleanup'], ['GET', '/metrics']] as const) {
      const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${alice}` } })
      expect([path, res.status]).toEqual([path, 401])
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    }
  }, SLOW_TEST_MS)

  test('GET /admin/stats: uptime, totals and per-user connections, busy, queued, requests and bytes', async () => {
    expect(await (await asAlice('/t/alice/hello')).text()).toBe('hello from origin ')
    const posted = await asAlice('/t/alice/sha256', { method: 'POST', body: new Uint8Array(1000) })
    expect(posted.status).toBe(200)
    await posted.text()
    // One request held open so that busy and inflight show it.
    const slow = asAlice('/t/alice/slow?ms=400')
    let stats: any
    for (let i = 0; i < 100; i++) {
      stats = await (await admin(gw.url, '/admin/stats')).json()
      if (stats.totals.busy === 1) break
      await Bun.sleep(10)
    }
    expect(stats).toMatchObject({ draining: false, inflight: 1 })
    expect(typeof stats.uptime).toBe('number')
    expect(stats.totals).toEqual({ users: 1, connections: 1, tunnels: 1, busy: 1, queued: 0, requests: 2, bytesIn: expect.any(Number), bytesOut: 1000 })
    expect(stats.totals.bytesIn).toBeGreaterThan(0)
    expect(stats.pool.users).toEqual([
      { user: 'alice', connections: 1, busy: 1, capacity: 10, queued: 0, requests: 2, bytesIn: stats.totals.bytesIn, bytesOut: 1000 },
    ])
    expect((await slow).status).toBe(200)
  }, SLOW_TEST_MS)

  test('GET /admin/connections: id, user, agent, remote address, transport, times, busy/open channels, traffic, state', async () => {
    // The previous test's slow request has answered; its slot is released a moment later. Its
    // channel may stay open, idle, for reuse (kept-alive channels).
    const c = await eventually('the last request to be released', async () => (await connectionsOf(gw.url, 'alice')).find((x) => x.busy === 0))
    expect(c).toEqual({
      id: expect.stringMatching(/^c/),
      user: 'alice',
      agentId: expect.any(String),
      slot: 0,
      remoteAddress: '127.0.0.1',
      transport: 'websocket',
      public: false,
      opened: expect.any(String),
      lastSeen: expect.any(String),
      lastActivity: expect.any(String),
      busy: 0,
      channels: expect.any(Number),
      requests: expect.any(Number),
      bytesIn: expect.any(Number),
      bytesOut: expect.any(Number),
      state: 'ready',
    })
    expect(Date.parse(c.opened)).toBeLessThanOrEqual(Date.parse(c.lastActivity))
  }, SLOW_TEST_MS)

  test('DELETE /admin/connections/:id closes it with "closed by admin"; the agent says so and reconnects', async () => {
    const [kicked] = await connectionsOf(gw.url, 'alice')
    const res = await admin(gw.url, `/admin/connections/${kicked!.id}`, { method: 'DELETE' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ closed: { id: kicked!.id, user: 'alice', reason: 'closed by admin' } })
    await agent.proc.waitFor(/closed by admin/)
    await waitForTunnelsUp(agent.proc, 2)
    const now = await connectionsOf(gw.url, 'alice')
    expect(now).toHaveLength(1)
    expect(now[0]!.id).not.toBe(kicked!.id)
    expect(now[0]!.agentId).toBe(kicked!.agentId)
    expect(await (await asAlice('/t/alice/hello')).text()).toBe('hello from origin ')

    const unknown = await admin(gw.url, '/admin/connections/nope', { method: 'DELETE' })
    expect([unknown.status, ((await unknown.json()) as { error: { code: string } }).error.code]).toEqual([404, 'not_found'])
  }, SLOW_TEST_MS)

  test('POST /admin/cleanup with nothing to close returns {closed: []}', async () => {
    const res = await admin(gw.url, '/admin/cleanup', { method: 'POST' })
    expect(await res.json()).toEqual({ closed: [] })
  }, SLOW_TEST_MS)

  test('GET /metrics: Prometheus text with per-user gauges and counters', async () => {
    const res = await admin(gw.url, '/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    const text = await res.text()
    expect(text).toMatch(/^burrow_tunnel_connections\{user="alice"\} 1$/m)
    expect(text).toMatch(/^burrow_busy_channels\{user="alice"\} 0$/m)
    expect(text).toMatch(/^burrow_agent_connections 1$/m)
    expect(text).toMatch(/^burrow_requests_total [1-9]\d*$/m)
    expect(text).toMatch(/^burrow_bytes_total\{direction="out"\} 1000$/m)
    expect(text).toMatch(/^burrow_connections_closed_total\{reason="admin"\} 1$/m)
    expect(text).toMatch(/^burrow_draining 0$/m)
  }, SLOW_TEST_MS)
})
