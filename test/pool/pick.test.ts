import { describe, expect, test } from 'bun:test'
import { type Limits, pick, type PoolState } from '../../src/pool/index.ts'
import { conn, deepFreeze, limits, poolOf } from './helpers.ts'

interface Case {
  name: string
  state: PoolState
  user: string
  now: number
  limits?: Limits
  /** The picked id, or the failure reason. */
  expected: { id: string } | { reason: 'no_tunnel' | 'saturated' }
}

const cases: Case[] = [
  {
    name: 'pick() prefers the connection with the fewest busy channels',
    state: poolOf([conn('c1', 'alice', { busy: 3 }), conn('c2', 'alice', { busy: 1 }), conn('c3', 'alice', { busy: 2 })]),
    user: 'alice',
    now: 100,
    expected: { id: 'c2' },
  },
  {
    name: 'pick() breaks a busy tie by the most recent lastSeen',
    state: poolOf([conn('c1', 'alice', { lastSeen: 50 }), conn('c2', 'alice', { lastSeen: 90 }), conn('c3', 'alice', { lastSeen: 70 })]),
    user: 'alice',
    now: 100,
    expected: { id: 'c2' },
  },
  {
    name: 'pick() breaks a busy and lastSeen tie by the lowest openedAt',
    state: poolOf([conn('c1', 'alice', { openedAt: 30 }), conn('c2', 'alice', { openedAt: 10 }), conn('c3', 'alice', { openedAt: 20 })]),
    user: 'alice',
    now: 100,
    expected: { id: 'c2' },
  },
  {
    name: 'pick() breaks a complete tie by the lowest id',
    state: poolOf([conn('c3', 'alice'), conn('c1', 'alice'), conn('c2', 'alice')]),
    user: 'alice',
    now: 100,
    expected: { id: 'c1' },
  },
  {
    name: 'pick() skips draining connections even when they are less busy',
    state: poolOf([conn('c1', 'alice', { state: 'draining' }), conn('c2', 'alice', { busy: 5 })]),
    user: 'alice',
    now: 100,
    expected: { id: 'c2' },
  },
  {
    name: 'pick() says saturated when each ready connection holds sshMaxChannels or more',
    state: poolOf([conn('c1', 'alice', { busy: 2, lastSeen: 99 }), conn('c2', 'alice', { busy: 1 })]),
    user: 'alice',
    now: 100,
    limits: { ...limits, sshMaxChannels: 1 },
    expected: { reason: 'saturated' },
  },
  {
    name: 'pick() uses a connection with one channel left',
    state: poolOf([conn('c1', 'alice', { busy: 10 }), conn('c2', 'alice', { busy: 9 })]),
    user: 'alice',
    now: 100,
    expected: { id: 'c2' },
  },
  {
    name: 'pick() says no_tunnel for a user without connections',
    state: poolOf([conn('c1', 'bob')]),
    user: 'alice',
    now: 100,
    expected: { reason: 'no_tunnel' },
  },
  {
    name: "pick() says no_tunnel when all the user's connections are draining",
    state: poolOf([conn('c1', 'alice', { state: 'draining' }), conn('c2', 'alice', { state: 'draining' })]),
    user: 'alice',
    now: 100,
    expected: { reason: 'no_tunnel' },
  },
  {
    name: 'pick() says saturated when every ready connection is full (a draining one does not help)',
    state: poolOf([conn('c1', 'alice', { busy: 10 }), conn('c2', 'alice', { state: 'draining' })]),
    user: 'alice',
    now: 100,
    expected: { reason: 'saturated' },
  },
  {
    name: "pick() never hands out another user's connection",
    state: poolOf([conn('b1', 'bob'), conn('a1', 'alice', { busy: 10 })]),
    user: 'alice',
    now: 100,
    expected: { reason: 'saturated' },
  },
]

describe('pick()', () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = pick(deepFreeze(c.state), c.user, c.now, c.limits ?? limits)
      if ('reason' in c.expected) {
        expect(r).toEqual({ ok: false, reason: c.expected.reason })
      } else {
        if (!r.ok) throw new Error(`expected a pick, got ${r.reason}`)
        expect(r.id).toBe(c.expected.id)
      }
    })
  }

  test('pick() counts the request on the chosen connection and marks it active now', () => {
    const state = poolOf([conn('c1', 'alice', { busy: 2, lastActive: 10 }), conn('c2', 'alice', { busy: 4 })])
    const r = pick(state, 'alice', 500, limits)
    if (!r.ok) throw new Error(r.reason)
    expect(r.state.conns.get('c1')).toEqual(conn('c1', 'alice', { busy: 3, lastActive: 500 }))
    expect(r.state.conns.get('c2')).toBe(state.conns.get('c2')!)
    expect(r.state.byUser).toBe(state.byUser)
  })

  test('pick() spreads consecutive requests over equally busy connections', () => {
    let state = poolOf([conn('c1', 'alice'), conn('c2', 'alice'), conn('c3', 'alice')])
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const r = pick(state, 'alice', 100, limits)
      if (!r.ok) throw new Error(r.reason)
      ids.push(r.id)
      state = r.state
    }
    expect(ids).toEqual(['c1', 'c2', 'c3', 'c1', 'c2', 'c3'])
  })
})
