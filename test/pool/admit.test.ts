import { describe, expect, test } from 'bun:test'
import { admit, type Closed, connectionsOf, type Limits, type PoolError, type PoolState } from '../../src/pool/index.ts'
import { conn, deepFreeze, limits, poolOf } from './helpers.ts'

interface Case {
  name: string
  state: PoolState
  conn: { id: string; user: string; agentId?: string; slot?: number }
  now: number
  limits?: Limits
  /** For a refusal: the error. For an admission: the user's ids after, and what was retired. */
  expected: { error: PoolError } | { ids: string[]; retired: Closed[] }
}

const full = (agents: (string | undefined)[], user = 'alice') =>
  agents.map((agentId, i) => conn(`${user}${i + 1}`, user, { agentId, slot: agentId === undefined ? undefined : i, openedAt: 10 * (i + 1), lastSeen: 90 }))

// limits.staleAfter is 180000: at now = 100 every connection above is live (seen at 90).
const LATER = 90 + limits.staleAfter

const cases: Case[] = [
  {
    name: 'admit() admits below the limit without retiring anything',
    state: poolOf(full(['a', 'a'])),
    conn: { id: 'new', user: 'alice', agentId: 'a', slot: 2 },
    now: 100,
    expected: { ids: ['alice1', 'alice2', 'new'], retired: [] },
  },
  {
    name: 'admit() refuses a user at the limit with user_connection_limit and the max',
    state: poolOf(full([undefined, undefined, undefined])),
    conn: { id: 'new', user: 'alice' },
    now: 100,
    expected: { error: { code: 'user_connection_limit', max: 3 } },
  },
  {
    name: "admit() retires the instance's own connection of the same slot (its dead one) as replaced",
    state: poolOf([
      conn('c1', 'alice', { agentId: 'a', slot: 0, openedAt: 20 }),
      conn('c2', 'alice', { agentId: 'b', slot: 0, openedAt: 5 }),
      conn('c3', 'alice', { agentId: 'a', slot: 1, openedAt: 10 }),
    ]),
    conn: { id: 'c4', user: 'alice', agentId: 'a', slot: 1 },
    now: 100,
    expected: { ids: ['c1', 'c2', 'c4'], retired: [{ id: 'c3', user: 'alice', reason: 'replaced' }] },
  },
  {
    name: 'admit() replaces its own slot below the limit too: the old one is dead on the agent side',
    state: poolOf([conn('c1', 'alice', { agentId: 'a', slot: 0 })]),
    conn: { id: 'c2', user: 'alice', agentId: 'a', slot: 0 },
    now: 100,
    expected: { ids: ['c2'], retired: [{ id: 'c1', user: 'alice', reason: 'replaced' }] },
  },
  {
    name: 'admit() replaces its own slot even while that connection is busy or draining',
    state: poolOf([
      conn('c1', 'alice', { agentId: 'a', slot: 0, openedAt: 1, busy: 4, state: 'draining' }),
      conn('c2', 'alice', { agentId: 'b', slot: 0, openedAt: 2 }),
      conn('c3', 'alice', { agentId: 'b', slot: 1, openedAt: 3 }),
    ]),
    conn: { id: 'c4', user: 'alice', agentId: 'a', slot: 0 },
    now: 100,
    expected: { ids: ['c2', 'c3', 'c4'], retired: [{ id: 'c1', user: 'alice', reason: 'replaced' }] },
  },
  {
    name: "admit() at the limit never takes another live slot of the same instance (issue 14's loop)",
    state: poolOf(full(['a', 'a', 'b'])),
    conn: { id: 'new', user: 'alice', agentId: 'b', slot: 1 },
    now: 100,
    expected: { error: { code: 'user_connection_limit', max: 3 } },
  },
  {
    name: 'admit() at the limit refuses another instance while every connection is live',
    state: poolOf(full(['a', 'b', 'b'])),
    conn: { id: 'new', user: 'alice', agentId: 'z', slot: 0 },
    now: 100,
    expected: { error: { code: 'user_connection_limit', max: 3 } },
  },
  {
    name: 'admit() at the limit takes over a stale connection, whoever held it, as stale',
    state: poolOf([
      conn('c1', 'alice', { agentId: 'a', slot: 0, lastSeen: 100 }),
      conn('c2', 'alice', { agentId: 'old', slot: 0, lastSeen: 0 }),
      conn('c3', 'alice', { agentId: 'a', slot: 1, lastSeen: 100 }),
    ]),
    conn: { id: 'new', user: 'alice', agentId: 'z', slot: 0 },
    now: LATER,
    expected: { ids: ['c1', 'c3', 'new'], retired: [{ id: 'c2', user: 'alice', reason: 'stale' }] },
  },
  {
    name: 'admit() at the limit takes over a stale connection for a client without an agent id (OpenSSH)',
    state: poolOf([conn('c1', 'alice', { lastSeen: 0 }), conn('c2', 'alice', { lastSeen: 100 }), conn('c3', 'alice', { lastSeen: 100 })]),
    conn: { id: 'new', user: 'alice' },
    now: LATER,
    expected: { ids: ['c2', 'c3', 'new'], retired: [{ id: 'c1', user: 'alice', reason: 'stale' }] },
  },
  {
    name: 'admit() takes the longest silent of several stale connections, and only as many as needed',
    state: poolOf([conn('c1', 'alice', { lastSeen: 50 }), conn('c2', 'alice', { lastSeen: 10 }), conn('c3', 'alice', { lastSeen: 80 })]),
    conn: { id: 'new', user: 'alice' },
    now: 80 + limits.staleAfter,
    expected: { ids: ['c1', 'c3', 'new'], retired: [{ id: 'c2', user: 'alice', reason: 'stale' }] },
  },
  {
    name: 'admit() at the limit without an agent id refuses while every connection is live',
    state: poolOf(full(['a', 'a', 'a'])),
    conn: { id: 'new', user: 'alice' },
    now: 100,
    expected: { error: { code: 'user_connection_limit', max: 3 } },
  },
  {
    name: 'admit() without a slot never replaces anything of its instance',
    state: poolOf(full(['a', 'a', 'a'])),
    conn: { id: 'new', user: 'alice', agentId: 'a' },
    now: 100,
    expected: { error: { code: 'user_connection_limit', max: 3 } },
  },
  {
    name: "admit() never replaces another user's connection of the same agent id and slot",
    state: poolOf([...full(['b', 'b', 'b']), conn('bob1', 'bob', { agentId: 'a', slot: 0 })]),
    conn: { id: 'new', user: 'alice', agentId: 'a', slot: 0 },
    now: 100,
    expected: { error: { code: 'user_connection_limit', max: 3 } },
  },
  {
    name: 'admit() counts draining connections against the limit',
    state: poolOf([conn('c1', 'alice', { state: 'draining', lastSeen: 90 }), conn('c2', 'alice', { lastSeen: 90 }), conn('c3', 'alice', { lastSeen: 90 })]),
    conn: { id: 'new', user: 'alice' },
    now: 100,
    expected: { error: { code: 'user_connection_limit', max: 3 } },
  },
  {
    name: "admit() applies the limit per user: another user's full pool does not matter",
    state: poolOf(full([undefined, undefined, undefined], 'bob')),
    conn: { id: 'new', user: 'alice' },
    now: 100,
    expected: { ids: ['new'], retired: [] },
  },
  {
    name: 'admit() refuses while the pool is draining',
    state: poolOf([], true),
    conn: { id: 'new', user: 'alice' },
    now: 100,
    expected: { error: { code: 'draining' } },
  },
  {
    name: 'admit() refuses an id already in the pool, whoever holds it',
    state: poolOf([conn('c1', 'bob')]),
    conn: { id: 'c1', user: 'alice' },
    now: 100,
    expected: { error: { code: 'duplicate_connection', id: 'c1' } },
  },
  {
    name: 'admit() reports draining before a duplicate id',
    state: poolOf([conn('c1', 'alice')], true),
    conn: { id: 'c1', user: 'alice' },
    now: 100,
    expected: { error: { code: 'draining' } },
  },
  {
    name: 'admit() under a lowered limit refuses unless enough connections are its own slot or stale',
    state: poolOf(full(['a', 'a', 'a'])),
    conn: { id: 'new', user: 'alice', agentId: 'a', slot: 0 },
    now: 100,
    limits: { ...limits, maxConnectionsPerUser: 2 },
    expected: { error: { code: 'user_connection_limit', max: 2 } },
  },
  {
    name: 'admit() under a lowered limit takes its own slot and as many stale ones as needed',
    state: poolOf([
      conn('c1', 'alice', { agentId: 'a', slot: 0, lastSeen: 0 }),
      conn('c2', 'alice', { agentId: 'a', slot: 1, lastSeen: 0 }),
      conn('c3', 'alice', { agentId: 'a', slot: 2, lastSeen: 100 }),
    ]),
    conn: { id: 'new', user: 'alice', agentId: 'a', slot: 2 },
    now: LATER,
    limits: { ...limits, maxConnectionsPerUser: 2 },
    expected: {
      ids: ['c2', 'new'],
      retired: [
        { id: 'c3', user: 'alice', reason: 'replaced' },
        { id: 'c1', user: 'alice', reason: 'stale' },
      ],
    },
  },
]

describe('admit()', () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = admit(deepFreeze(c.state), c.conn, c.now, c.limits ?? limits)
      if ('error' in c.expected) {
        expect(r).toEqual({ ok: false, error: c.expected.error })
      } else {
        if (!r.ok) throw new Error(`expected admission, got ${JSON.stringify(r.error)}`)
        expect(connectionsOf(r.state, c.conn.user).map((x) => x.id)).toEqual(c.expected.ids)
        expect(r.retired).toEqual(c.expected.retired)
        for (const { id } of r.retired) expect(r.state.conns.has(id)).toBe(false)
      }
    })
  }

  test('admit() sets openedAt = lastSeen = lastActive = now, busy 0, ready', () => {
    const r = admit(poolOf([]), { id: 'c1', user: 'alice', agentId: 'a', slot: 2 }, 1234, limits)
    if (!r.ok) throw new Error('refused')
    expect(r.state.conns.get('c1')).toEqual({
      id: 'c1',
      user: 'alice',
      agentId: 'a',
      slot: 2,
      openedAt: 1234,
      lastSeen: 1234,
      lastActive: 1234,
      busy: 0,
      state: 'ready',
    })
    expect(r.state.byUser.get('alice')).toEqual(['c1'])
  })
})
