import { type PersistentMap, toPersistent } from './persistent-map.ts'
import { updateConn } from './state.ts'
import type { Conn, ConnId, PoolState } from './types.ts'

/**
 * Mark one connection draining: never picked again, still counted against the user's limit
 * until removed. `pool = markDraining(pool, id)`. Unknown or already draining: the same state.
 */
export function markDraining(state: PoolState, id: ConnId): PoolState {
  return updateConn(state, id, (c) => (c.state === 'draining' ? c : { ...c, state: 'draining' }))
}

/**
 * Drain the whole pool (shutdown): admit() refuses with `draining` and every connection is
 * marked draining, so pick() finds none. `pool = drainAll(pool)`. Already drained: the same state.
 */
export function drainAll(state: PoolState): PoolState {
  let conns: PersistentMap<Conn> | undefined
  for (const c of state.conns.values()) {
    if (c.state !== 'draining') conns = (conns ?? toPersistent(state.conns)).set(c.id, { ...c, state: 'draining' })
  }
  if (state.draining && conns === undefined) return state
  return { ...state, draining: true, conns: conns ?? state.conns }
}
