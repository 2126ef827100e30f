import { updateConn } from './state.ts'
import type { ConnId, PoolState } from './types.ts'

/**
 * Record a sign of life from the peer (any packet, keep-alive reply): lastSeen = max(lastSeen, now).
 * `pool = touch(pool, id, now)`. Unknown id or nothing newer: the same state.
 */
export function touch(state: PoolState, id: ConnId, now: number): PoolState {
  return updateConn(state, id, (c) => (now > c.lastSeen ? { ...c, lastSeen: now } : c))
}
