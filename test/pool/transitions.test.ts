import { describe, expect, test } from 'bun:test'
import {
  connectionsOf,
  drainAll,
  emptyPool,
  markDraining,
  type PoolState,
  release,
  remove,
  touch,
} from '../../src/pool/index.ts'
import { conn, deepFreeze, poolOf, view } from './helpers.ts'

interface Case {
  name: string
  state: PoolState
  now: number
  run: (state: PoolState, now: number) => PoolState
  /** The expected state, or 'same' for a no-op that must return the very same object. */
  expected: PoolState | 'same'
}

const two = () => poolOf([conn('c1', 'alice', { busy: 2, lastSeen: 40, lastActive: 50 }), conn('c2', 'bob')])

const cases: Case[] = [
  {
    name: 'release() frees one channel and marks the connection active now',
    state: two(),
    now: 100,
    run: (s, now) => release(s, 'c1', now),
    expected: poolOf([conn('c1', 'alice', { busy: 1, lastSeen: 40, lastActive: 100 }), conn('c2', 'bob')]),
  },
  {
    name: 'release() never takes busy below 0: an unmatched release is a no-op',
    state: two(),
    now: 100,
    run: (s, now) => release(s, 'c2', now),
    expected: 'same',
  },
  {
    name: 'release() of an unknown id is a no-op',
    state: two(),
    now: 100,
    run: (s, now) => release(s, 'nope', now),
    expected: 'same',
  },
  {
    name: 'release() never moves lastActive backwards',
    state: two(),
    now: 10,
    run: (s, now) => release(s, 'c1', now),
    expected: poolOf([conn('c1', 'alice', { busy: 1, lastSeen: 40, lastActive: 50 }), conn('c2', 'bob')]),
  },
  {
    name: 'touch() records a sign of life in lastSeen',
    state: two(),
    now: 100,
    run: (s, now) => touch(s, 'c1', now),
    expected: poolOf([conn('c1', 'alice', { busy: 2, lastSeen: 100, lastActive: 50 }), conn('c2', 'bob')]),
  },
  {
    name: 'touch() with an older time is a no-op (lastSeen only moves forward)',
    state: two(),
    now: 40,
    run: (s, now) => touch(s, 'c1', now),
    expected: 'same',
  },
  {
    name: 'touch() of an unknown id is a no-op',
    state: two(),
    now: 100,
    run: (s, now) => touch(s, 'nope', now),
    expected: 'same',
  },
  {
    name: "remove() drops the connection and the user's now empty index entry",
    state: two(),
    now: 0,
    run: (s) => remove(s, 'c2'),
    expected: poolOf([conn('c1', 'alice', { busy: 2, lastSeen: 40, lastActive: 50 })]),
  },
  {
    name: "remove() keeps the user's other connections in admission order",
    state: poolOf([conn('c1', 'alice'), conn('c2', 'alice'), conn('c3', 'alice')]),
    now: 0,
    run: (s) => remove(s, 'c2'),
    expected: poolOf([conn('c1', 'alice'), conn('c3', 'alice')]),
  },
  {
    name: 'remove() of an unknown id is a no-op',
    state: two(),
    now: 0,
    run: (s) => remove(s, 'nope'),
    expected: 'same',
  },
  {
    name: 'markDraining() marks one connection draining and leaves it counted',
    state: two(),
    now: 0,
    run: (s) => markDraining(s, 'c2'),
    expected: poolOf([conn('c1', 'alice', { busy: 2, lastSeen: 40, lastActive: 50 }), conn('c2', 'bob', { state: 'draining' })]),
  },
  {
    name: 'markDraining() of an already draining connection is a no-op',
    state: poolOf([conn('c1', 'alice', { state: 'draining' })]),
    now: 0,
    run: (s) => markDraining(s, 'c1'),
    expected: 'same',
  },
  {
    name: 'markDraining() of an unknown id is a no-op',
    state: two(),
    now: 0,
    run: (s) => markDraining(s, 'nope'),
    expected: 'same',
  },
  {
    name: 'drainAll() drains the pool and every connection',
    state: two(),
    now: 0,
    run: drainAll,
    expected: poolOf(
      [conn('c1', 'alice', { busy: 2, lastSeen: 40, lastActive: 50, state: 'draining' }), conn('c2', 'bob', { state: 'draining' })],
      true,
    ),
  },
  {
    name: 'drainAll() drains an empty pool',
    state: emptyPool(),
    now: 0,
    run: drainAll,
    expected: poolOf([], true),
  },
  {
    name: 'drainAll() of a drained pool is a no-op',
    state: poolOf([conn('c1', 'alice', { state: 'draining' })], true),
    now: 0,
    run: drainAll,
    expected: 'same',
  },
]

describe('release(), touch(), remove(), markDraining(), drainAll()', () => {
  for (const c of cases) {
    test(c.name, () => {
      const next = c.run(deepFreeze(c.state), c.now)
      if (c.expected === 'same') expect(next).toBe(c.state)
      else expect(view(next)).toEqual(view(c.expected))
    })
  }
})

describe('connectionsOf()', () => {
  test("connectionsOf() lists the user's connections in admission order", () => {
    const state = poolOf([conn('z', 'alice'), conn('b1', 'bob'), conn('a', 'alice')])
    expect(connectionsOf(state, 'alice').map((c) => c.id)).toEqual(['z', 'a'])
  })

  test('connectionsOf() is empty for an unknown user', () => {
    expect(connectionsOf(emptyPool(), 'alice')).toEqual([])
  })
})
