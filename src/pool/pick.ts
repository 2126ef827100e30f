import { idsOf, replaceConn } from './state.ts'
import type { Conn, Limits, PickResult, PoolState, UserId } from './types.ts'

/**
 * Pick a connection for one request of `user` and count the request on it:
 * `const r = pick(pool, 'alice', now, limits); if (r.ok) open a channel on r.id`.
 * Chooses the least-busy ready connection below `sshMaxChannels`. Ties go to the most recent
 * lastSeen (the peer most likely still alive), then the lowest openedAt (the longest-proven
 * connection; newer surplus ones can go idle and be retired), then the lowest id (determinism).
 * Fails with `no_tunnel` when the user has no ready connection, `saturated` when all are full.
 * Cost: O(connections of the user).
 */
export function pick(state: PoolState, user: UserId, now: number, limits: Limits): PickResult {
  let best: Conn | undefined
  let anyReady = false
  for (const id of idsOf(state, user)) {
    const c = state.conns.get(id)
    if (c === undefined || c.state !== 'ready') continue
    anyReady = true
    if (c.busy >= limits.sshMaxChannels) continue
    if (best === undefined || preferred(c, best)) best = c
  }
  if (best === undefined) return { ok: false, reason: anyReady ? 'saturated' : 'no_tunnel' }
  // max(): a clock stepping back must not make a connection look idle for longer.
  const next: Conn = { ...best, busy: best.busy + 1, lastActive: Math.max(best.lastActive, now) }
  return { ok: true, state: replaceConn(state, next), id: best.id }
}

function preferred(a: Conn, b: Conn): boolean {
  if (a.busy !== b.busy) return a.busy < b.busy
  if (a.lastSeen !== b.lastSeen) return a.lastSeen > b.lastSeen
  if (a.openedAt !== b.openedAt) return a.openedAt < b.openedAt
  return a.id < b.id
}
