import { describe, expect, test } from 'bun:test'
import {
  admit,
  drainAll,
  markDraining,
  pick,
  type PoolState,
  poolStats,
  release,
  remove,
  sweep,
  touch,
} from '../../src/pool/index.ts'
import { PersistentMap } from '../../src/pool/persistent-map.ts'
import { conn, deepFreeze, limits, nativePoolOf, poolOf, view } from './helpers.ts'

const NOW = 1_000_000
const conns = () => [
  conn('a1', 'alice', { agentId: 'x', busy: 1, lastSeen: NOW - 200_000 }),
  conn('a2', 'alice', { agentId: 'x', lastActive: NOW - 400_000, lastSeen: NOW - 10 }),
  conn('a3', 'alice', { agentId: 'y', busy: 2, lastSeen: NOW }),
  conn('b1', 'bob', { state: 'draining' }),
]

const transitions: [string, (s: PoolState) => unknown][] = [
  ['admit() replacing', (s) => admit(s, { id: 'a4', user: 'alice', agentId: 'x' }, NOW, limits)],
  ['admit() new user', (s) => admit(s, { id: 'c1', user: 'carol' }, NOW, limits)],
  ['pick()', (s) => pick(s, 'alice', NOW, limits)],
  ['release()', (s) => release(s, 'a3', NOW)],
  ['touch()', (s) => touch(s, 'a1', NOW)],
  ['remove()', (s) => remove(s, 'a2')],
  ['markDraining()', (s) => markDraining(s, 'a1')],
  ['drainAll()', drainAll],
  ['sweep()', (s) => sweep(s, NOW, limits)],
  ['poolStats()', (s) => poolStats(s, limits)],
]

describe('transitions never mutate their input', () => {
  for (const [name, run] of transitions) {
    test(`${name} leaves a deep-frozen persistent state untouched`, () => {
      const state = deepFreeze(poolOf(conns()))
      const before = view(state)
      run(state)
      expect(view(state)).toEqual(before)
    })

    test(`${name} accepts a hand-built state on native Maps and leaves it untouched`, () => {
      const state = deepFreeze(nativePoolOf(conns()))
      const before = view(state)
      const out = run(state)
      expect(view(state)).toEqual(before)
      // The result (if any) is the same as from the persistent build.
      const expected = run(poolOf(conns()))
      const picture = (r: unknown) =>
        r !== null && typeof r === 'object' && 'conns' in r ? view(r as PoolState)
        : r !== null && typeof r === 'object' && 'state' in r ? { ...r, state: view((r as { state: PoolState }).state) }
        : r
      expect(picture(out)).toEqual(picture(expected))
    })
  }

  test('a changed state shares every untouched connection with its predecessor', () => {
    const state = poolOf(conns())
    const r = pick(state, 'alice', NOW, limits)
    if (!r.ok) throw new Error(r.reason)
    expect(r.state.conns).toBeInstanceOf(PersistentMap)
    for (const id of ['a1', 'a3', 'b1']) expect(r.state.conns.get(id)).toBe(state.conns.get(id)!)
  })
})
