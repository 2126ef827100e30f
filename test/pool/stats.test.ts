import { describe, expect, test } from 'bun:test'
import { emptyPool, poolStats, type PoolState, type PoolStats } from '../../src/pool/index.ts'
import { conn, limits, poolOf } from './helpers.ts'

const cases: { name: string; state: PoolState; expected: PoolStats }[] = [
  {
    name: 'poolStats() of an empty pool is all zeros',
    state: emptyPool(),
    expected: { connections: 0, busy: 0, users: [] },
  },
  {
    name: 'poolStats() sums per user, counts only ready connections as capacity, sorts users by id',
    state: poolOf([
      conn('c1', 'carol', { busy: 3 }),
      conn('a1', 'alice', { busy: 2 }),
      conn('a2', 'alice', { busy: 1, state: 'draining' }),
      conn('b1', 'bob', { state: 'draining' }),
    ]),
    expected: {
      connections: 4,
      busy: 6,
      users: [
        { user: 'alice', connections: 2, busy: 3, capacity: 10 },
        { user: 'bob', connections: 1, busy: 0, capacity: 0 },
        { user: 'carol', connections: 1, busy: 3, capacity: 10 },
      ],
    },
  },
]

describe('poolStats()', () => {
  for (const c of cases) test(c.name, () => expect(poolStats(c.state, limits)).toEqual(c.expected))
})
