import { describe, expect, test } from 'bun:test'
import { type Closed, type PoolState, sweep } from '../../src/pool/index.ts'
import { conn, deepFreeze, limits, poolOf, view } from './helpers.ts'

// limits: stale at 180 000 ms of silence (3 keep-alives of 60 000); idle at 300 000 ms without requests.
const NOW = 1_000_000
const fresh = { lastSeen: NOW - 1000, lastActive: NOW - 1000 }
const idle = { lastSeen: NOW - 1000, lastActive: NOW - 300_000 }
const stale = { lastSeen: NOW - 180_000, lastActive: NOW - 1000 }

interface Case {
  name: string
  state: PoolState
  now: number
  /** What the sweep closes, in order; the state must lose exactly these. */
  expected: Closed[]
}

const cases: Case[] = [
  {
    name: 'sweep() closes a connection silent for 3 keep-alive intervals as stale',
    state: poolOf([conn('c1', 'alice', stale), conn('c2', 'alice', fresh)]),
    now: NOW,
    expected: [{ id: 'c1', user: 'alice', reason: 'stale' }],
  },
  {
    name: 'sweep() keeps a connection silent for just under 3 keep-alive intervals',
    state: poolOf([conn('c1', 'alice', { ...stale, lastSeen: NOW - 179_999 })]),
    now: NOW,
    expected: [],
  },
  {
    name: 'sweep() reports a stale connection even with requests in flight',
    state: poolOf([conn('c1', 'alice', { ...stale, busy: 4 })]),
    now: NOW,
    expected: [{ id: 'c1', user: 'alice', reason: 'stale' }],
  },
  {
    name: "sweep() closes a user's only connection when it is stale",
    state: poolOf([conn('c1', 'alice', stale)]),
    now: NOW,
    expected: [{ id: 'c1', user: 'alice', reason: 'stale' }],
  },
  {
    name: 'sweep() retires an idle connection while the user keeps a busy one',
    state: poolOf([conn('c1', 'alice', idle), conn('c2', 'alice', { ...idle, busy: 1 })]),
    now: NOW,
    expected: [{ id: 'c1', user: 'alice', reason: 'idle' }],
  },
  {
    name: 'sweep() keeps a connection idle for just under maxIdleTime',
    state: poolOf([conn('c1', 'alice', { ...idle, lastActive: NOW - 299_999 }), conn('c2', 'alice', fresh)]),
    now: NOW,
    expected: [],
  },
  {
    name: 'sweep() never retires a busy connection as idle, however old its lastActive',
    state: poolOf([conn('c1', 'alice', { ...idle, busy: 1 }), conn('c2', 'alice', fresh)]),
    now: NOW,
    expected: [],
  },
  {
    name: "sweep() keeps a user's last live connection even when idle",
    state: poolOf([conn('c1', 'alice', idle)]),
    now: NOW,
    expected: [],
  },
  {
    name: 'sweep() keeps the idle connection when its only sibling is stale',
    state: poolOf([conn('c1', 'alice', idle), conn('c2', 'alice', stale)]),
    now: NOW,
    expected: [{ id: 'c2', user: 'alice', reason: 'stale' }],
  },
  {
    name: 'sweep() keeps the most recently active of several idle connections',
    state: poolOf([
      conn('c1', 'alice', { ...idle, lastActive: NOW - 400_000 }),
      conn('c2', 'alice', { ...idle, lastActive: NOW - 310_000 }),
      conn('c3', 'alice', { ...idle, lastActive: NOW - 500_000 }),
    ]),
    now: NOW,
    expected: [
      { id: 'c1', user: 'alice', reason: 'idle' },
      { id: 'c3', user: 'alice', reason: 'idle' },
    ],
  },
  {
    name: 'sweep() keeps, among equally idle connections, the one seen most recently',
    state: poolOf([conn('c1', 'alice', { ...idle, lastSeen: NOW - 10 }), conn('c2', 'alice', idle)]),
    now: NOW,
    expected: [{ id: 'c2', user: 'alice', reason: 'idle' }],
  },
  {
    name: 'sweep() counts a draining connection as one the user keeps',
    state: poolOf([conn('c1', 'alice', idle), conn('c2', 'alice', { ...fresh, busy: 1, state: 'draining' })]),
    now: NOW,
    expected: [{ id: 'c1', user: 'alice', reason: 'idle' }],
  },
  {
    name: "sweep() decides per user: one user's live connection does not free another's last one",
    state: poolOf([conn('a1', 'alice', idle), conn('b1', 'bob', fresh)]),
    now: NOW,
    expected: [],
  },
  {
    name: 'sweep() lists stale before idle, each by id ascending',
    state: poolOf([
      conn('b2', 'bob', idle),
      conn('b1', 'bob', fresh),
      conn('a9', 'alice', stale),
      conn('a2', 'alice', { ...idle, lastActive: NOW - 900_000 }),
      conn('a1', 'alice', idle),
      conn('c1', 'carol', stale),
      conn('a0', 'alice', { ...stale, busy: 2 }),
    ]),
    now: NOW,
    expected: [
      { id: 'a0', user: 'alice', reason: 'stale' },
      { id: 'a9', user: 'alice', reason: 'stale' },
      { id: 'c1', user: 'carol', reason: 'stale' },
      { id: 'a2', user: 'alice', reason: 'idle' },
      { id: 'b2', user: 'bob', reason: 'idle' },
    ],
  },
]

describe('sweep()', () => {
  for (const c of cases) {
    test(c.name, () => {
      const before = view(c.state)
      const r = sweep(deepFreeze(c.state), c.now, limits)
      expect(r.closed).toEqual(c.expected)
      const gone = new Set(c.expected.map((x) => x.id))
      const kept = poolOf(before.conns.filter((x) => !gone.has(x.id)))
      expect(view(r.state).conns).toEqual(view(kept).conns)
      expect(new Set(r.state.byUser.keys())).toEqual(new Set(kept.byUser.keys()))
      if (c.expected.length === 0) expect(r.state).toBe(c.state)
    })
  }

  test('sweep() of an empty pool returns the same state and nothing closed', () => {
    const state = poolOf([])
    expect(sweep(state, NOW, limits)).toEqual({ state, closed: [] })
    expect(sweep(state, NOW, limits).state).toBe(state)
  })

  test('sweep() keeps admission order for the connections that remain', () => {
    const state = poolOf([conn('z', 'alice', fresh), conn('m', 'alice', stale), conn('a', 'alice', fresh)])
    expect(sweep(state, NOW, limits).state.byUser.get('alice')).toEqual(['z', 'a'])
  })
})
