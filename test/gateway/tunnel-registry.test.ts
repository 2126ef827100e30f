import { describe, expect, test } from 'bun:test'
import type { Connection } from 'ssh2'
import { newLiveConn } from '../../src/gateway/live-conn.ts'
import { TunnelRegistry } from '../../src/gateway/tunnel-registry.ts'
import { createLogger } from '../../src/log/logger.ts'

const INTERVAL = 1_000
const limits = { maxConnectionsPerUser: 3, sshMaxChannels: 2, maxIdleTime: 60_000, staleAfter: 3 * INTERVAL }
const fakeClient = {} as Connection

/** A registry on a hand-driven clock, logging into an array, with fake live connections. */
function setup() {
  const clock = { now: 0 }
  const logs: Record<string, unknown>[] = []
  const closes: { id: string; reason: string; wsCode?: number; peerGone?: boolean }[] = []
  const registry = new TunnelRegistry({
    limits,
    queueMaxWaiting: 10,
    queueTimeout: 5_000,
    log: createLogger('debug', (line) => logs.push(JSON.parse(line))),
    now: () => clock.now,
  })
  const connect = (id: string, user = 'alice', agentId: string | null = 'agent-a', slot?: number) => {
    const conn = newLiveConn(
      { id, user, agentId: agentId ?? undefined, slot, isPublic: false, transport: 'websocket', remoteAddress: '127.0.0.1' },
      (reason, wsCode, options) => void closes.push({ id, reason, wsCode, peerGone: options?.peerGone }),
      clock.now,
    )
    registry.track(conn)
    return { conn, register: () => registry.register(id, fakeClient, { bindAddr: 'localhost', bindPort: 80 }) }
  }
  return { clock, logs, closes, registry, connect }
}

describe('TunnelRegistry (the shell around the pool)', () => {
  test('sweepNow() closes a connection silent for 3 keep-alive intervals, cuts it at once and logs the reason', () => {
    const { clock, logs, closes, registry, connect } = setup()
    const quiet = connect('c1')
    const chatty = connect('c2')
    expect(quiet.register()).toEqual({ ok: true })
    expect(chatty.register()).toEqual({ ok: true })
    clock.now = 3 * INTERVAL - 1
    chatty.conn.lastByteAt = clock.now
    expect(registry.sweepNow()).toEqual([])
    clock.now = 3 * INTERVAL
    expect(registry.sweepNow()).toEqual([{ id: 'c1', user: 'alice', reason: 'stale' }])
    expect(closes).toEqual([{ id: 'c1', reason: 'no sign of life (stale)', wsCode: 1000, peerGone: true }])
    expect(logs.find((l) => l.event === 'connection_retired')).toMatchObject({ conn: 'c1', user: 'alice', reason: 'stale', agent: 'agent-a' })
    expect(registry.list().map((c) => c.id)).toEqual(['c2'])
    expect(registry.closedTotals().get('stale')).toBe(1)
  })

  test('a connection that never registered a tunnel and went silent for 3 intervals is closed too', () => {
    const { clock, closes, registry, connect } = setup()
    const handshaking = connect('c1')
    const talking = connect('c2')
    clock.now = 3 * INTERVAL
    talking.conn.lastByteAt = clock.now
    expect(registry.sweepNow()).toEqual([{ id: 'c1', user: 'alice', reason: 'stale' }])
    expect(closes.map((c) => [c.id, c.peerGone])).toEqual([['c1', true]])
    expect(registry.list().map((c) => c.id)).toEqual(['c2'])
    expect(handshaking.conn.closing).toBe('no sign of life (stale)')
  })

  test('bytes from the peer (lastByteAt) keep a connection alive through any number of sweeps', () => {
    const { clock, registry, connect } = setup()
    const c = connect('c1')
    c.register()
    for (let t = 500; t <= 20 * INTERVAL; t += 500) {
      clock.now = t
      c.conn.lastByteAt = t
      expect(registry.sweepNow()).toEqual([])
    }
  })

  test('a surplus idle connection is retired, the user keeps the last one', () => {
    const { clock, closes, registry, connect } = setup()
    const a = connect('c1')
    const b = connect('c2')
    a.register()
    b.register()
    clock.now = limits.maxIdleTime
    a.conn.lastByteAt = b.conn.lastByteAt = clock.now
    const closed = registry.sweepNow()
    expect(closed).toHaveLength(1)
    expect(closed[0]!.reason).toBe('idle')
    expect(closes).toEqual([{ id: closed[0]!.id, reason: 'idle surplus connection', wsCode: 1000, peerGone: false }])
    clock.now += limits.maxIdleTime
    a.conn.lastByteAt = b.conn.lastByteAt = clock.now
    expect(registry.sweepNow()).toEqual([])
    expect(registry.list()).toHaveLength(1)
  })

  test("a reconnect of the same agent's slot retires its own dead one; another slot or agent is refused with the reason", () => {
    const { clock, closes, registry, connect } = setup()
    const held = ['c1', 'c2', 'c3'].map((id, slot) => {
      clock.now += 10
      const c = connect(id, 'alice', 'agent-a', slot)
      expect(c.register()).toEqual({ ok: true })
      return c
    })
    expect(connect('c4', 'alice', 'agent-b', 0).register()).toEqual({ ok: false, refusal: { code: 'user_connection_limit', max: 3 } })
    expect(connect('c5', 'alice', null).register()).toEqual({ ok: false, refusal: { code: 'user_connection_limit', max: 3 } })
    // The same instance without a slot (an older agent) takes nothing either.
    expect(connect('c6', 'alice', 'agent-a').register()).toEqual({ ok: false, refusal: { code: 'user_connection_limit', max: 3 } })
    expect(connect('c7', 'alice', 'agent-a', 1).register()).toEqual({ ok: true })
    expect(closes).toEqual([{ id: 'c2', reason: 'replaced by a newer connection of the same agent', wsCode: 1000, peerGone: false }])
    expect(registry.stats().users.map((u) => [u.user, u.connections])).toEqual([['alice', 3]])
    expect(held.map((c) => c.conn.closing ?? null)).toEqual([null, 'replaced by a newer connection of the same agent', null])
  })

  test('at the limit a newcomer takes over a stale connection, judged by the bytes the shell saw, not the last sweep', () => {
    const { clock, closes, registry, connect } = setup()
    const [a, b, c] = ['c1', 'c2', 'c3'].map((id, slot) => {
      const conn = connect(id, 'alice', 'before', slot)
      conn.register()
      return conn
    })
    clock.now = limits.staleAfter
    // c1 and c3 sent bytes just now (no sweep has run to copy that into the pool); c2 went silent.
    a!.conn.lastByteAt = c!.conn.lastByteAt = clock.now
    expect(connect('n1', 'alice', 'after', 0).register()).toEqual({ ok: true })
    expect(closes).toEqual([{ id: 'c2', reason: 'no sign of life (stale)', wsCode: 1000, peerGone: true }])
    expect(b!.conn.closing).toBe('no sign of life (stale)')
    // Every other connection is live: the next newcomer is refused.
    expect(connect('n2', 'alice', 'after', 1).register()).toEqual({ ok: false, refusal: { code: 'user_connection_limit', max: 3 } })
  })

  test('cancel-tcpip-forward takes the connection out of the pool once its last forward is cancelled', () => {
    const { registry, connect } = setup()
    const a = connect('c1')
    expect(a.register()).toEqual({ ok: true })
    expect(registry.register('c1', fakeClient, { bindAddr: 'localhost', bindPort: 8080 })).toEqual({ ok: true })
    registry.cancel('c1', { bindAddr: 'localhost', bindPort: 9999 })
    expect(registry.tunnelOf('alice').exists).toBe(true)
    registry.cancel('c1', { bindAddr: 'localhost', bindPort: 80 })
    expect(registry.tunnelOf('alice').exists).toBe(true)
    registry.cancel('c1', { bindAddr: 'localhost', bindPort: 8080 })
    expect(registry.tunnelOf('alice').exists).toBe(false)
    // The session stays tracked, and a new forward registers it again.
    expect(registry.list().map((c) => c.id)).toEqual(['c1'])
    expect(a.register()).toEqual({ ok: true })
    expect(registry.tunnelOf('alice').exists).toBe(true)
  })

  test('a closed socket leaves the pool at once (no sweep needed)', () => {
    const { registry, connect } = setup()
    connect('c1').register()
    expect(registry.tunnelOf('alice').exists).toBe(true)
    registry.closed('c1')
    expect(registry.tunnelOf('alice').exists).toBe(false)
    expect(registry.list()).toEqual([])
  })

  test('kick() closes with "closed by admin" and takes the connection out of the pool before its socket goes', async () => {
    const { closes, registry, connect } = setup()
    connect('c1').register()
    expect(registry.kick('nope')).toBeUndefined()
    expect(registry.kick('c1')).toEqual({ id: 'c1', user: 'alice', reason: 'closed by admin' })
    expect(closes).toEqual([{ id: 'c1', reason: 'closed by admin', wsCode: 1000, peerGone: undefined }])
    expect(await registry.acquire('alice')).toEqual({ ok: false, code: 'tunnel_not_found' })
    expect(registry.list().map((c) => c.closing)).toEqual(['closed by admin'])
    expect(registry.closedTotals().get('admin')).toBe(1)
  })

  test('requests queued when the drain begins are released with `draining`, not `tunnel_saturated`', async () => {
    const { registry, connect } = setup()
    connect('c1').register()
    const held = [await registry.acquire('alice'), await registry.acquire('alice')]
    expect(held.every((r) => r.ok)).toBe(true)
    const queued = registry.acquire('alice')
    registry.drain()
    expect(await queued).toEqual({ ok: false, code: 'draining' })
  })

  test("the consumer's signal is asked for only when the request waits; aborting it leaves the queue", async () => {
    const { registry, connect } = setup()
    connect('c1').register()
    let asked = 0
    const consumer = new AbortController()
    const signal = () => (asked++, consumer.signal)
    const held = [await registry.acquire('alice', signal), await registry.acquire('alice', signal)]
    expect(held.every((r) => r.ok)).toBe(true)
    expect(asked).toBe(0)
    const queued = registry.acquire('alice', signal)
    expect(asked).toBe(1)
    expect(registry.stats().queued).toBe(1)
    consumer.abort()
    expect(await queued).toEqual({ ok: false, code: 'tunnel_saturated' })
    expect(registry.stats().queued).toBe(0)
    // Already gone before it would wait: not queued at all.
    expect(await registry.acquire('alice', signal)).toEqual({ ok: false, code: 'tunnel_saturated' })
    expect(registry.stats().queued).toBe(0)
  })

  test('stats() sums per user: connections, busy, queued, requests and bytes (which outlive connections)', async () => {
    const { registry, connect } = setup()
    connect('c1').register()
    connect('c2', 'bob').register()
    const lease = await registry.acquire('alice')
    if (!lease.ok) throw new Error('no lease')
    registry.traffic.record('alice', 100, 7)
    registry.traffic.record('alice', 50, 0)
    const s = registry.stats()
    expect(s).toMatchObject({ connections: 2, tunnels: 2, busy: 1, queued: 0, requests: 2 })
    expect(s.users).toEqual([
      { user: 'alice', connections: 1, busy: 1, capacity: 2, queued: 0, requests: 2, bytesIn: 150, bytesOut: 7 },
      { user: 'bob', connections: 1, busy: 0, capacity: 2, queued: 0, requests: 0, bytesIn: 0, bytesOut: 0 },
    ])
    lease.lease.release()
    registry.closed('c1')
    expect(registry.traffic.ofUser('alice')).toEqual({ requests: 2, bytesIn: 150, bytesOut: 7 })
  })
})
