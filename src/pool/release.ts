import { updateConn } from './state.ts'
import type { ConnId, PoolState } from './types.ts'

/**
 * A request on connection `id` ended: busy - 1 and lastActive = now.
 * `pool = release(pool, id, now)`. Unknown id, or busy already 0 (an unmatched release: no
 * request ended, so it is not activity either), returns the same state.
 */
export function release(state: PoolState, id: ConnId, now: number): PoolState {
  return updateConn(state, id, (c) =>
    c.busy === 0 ? c : { ...c, busy: c.busy - 1, lastActive: Math.max(c.lastActive, now) },
  )
}
