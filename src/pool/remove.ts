import { removeConns } from './state.ts'
import type { ConnId, PoolState } from './types.ts'

/** Forget a connection whose socket closed: `pool = remove(pool, id)`. Unknown id: the same state. */
export function remove(state: PoolState, id: ConnId): PoolState {
  const conn = state.conns.get(id)
  return conn === undefined ? state : removeConns(state, [conn])
}
