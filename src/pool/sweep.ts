import { connectionsOf, removeConns } from './state.ts'
import type { CloseReason, Closed, Conn, Limits, PoolState, SweepResult, UserId } from './types.ts'

const NOTHING: readonly Closed[] = Object.freeze([])

/**
 * Decide which connections to close now, and drop them from the state:
 * `const { state, closed } = sweep(pool, now, limits)`; the shell closes each of `closed`.
 * - stale: no sign of life for `limits.staleAfter` ms (`now - lastSeen >= staleAfter`),
 *   busy or not: its requests are lost anyway.
 * - idle: busy 0 and `now - lastActive >= maxIdleTime`, retired only while the user keeps
 *   another connection that is neither stale nor closed in this sweep (a user keeps at least
 *   one, like a pool's minimum idle). When every live connection of a user is idle, the most
 *   recently active one stays (ties: most recent lastSeen, then highest id).
 * `closed` lists stale then idle, each by id ascending. Nothing to close: the same state and [].
 */
export function sweep(state: PoolState, now: number, limits: Limits): SweepResult {
  const isStale = (c: Conn) => now - c.lastSeen >= limits.staleAfter
  const isIdle = (c: Conn) => c.busy === 0 && now - c.lastActive >= limits.maxIdleTime
  // One cheap pass over everything; per-user work only where something is idle.
  const stale: Conn[] = []
  const usersWithIdle = new Set<UserId>()
  state.conns.forEach((c) => {
    if (isStale(c)) stale.push(c)
    else if (isIdle(c)) usersWithIdle.add(c.user)
  })
  const idle: Conn[] = []
  for (const user of usersWithIdle) {
    const live = connectionsOf(state, user).filter((c) => !isStale(c))
    const candidates = live.filter(isIdle)
    if (candidates.length === live.length) candidates.sort(byKeepPriority).pop()
    idle.push(...candidates)
  }
  if (stale.length === 0 && idle.length === 0) return { state, closed: NOTHING }
  stale.sort(byId)
  idle.sort(byId)
  return {
    state: removeConns(state, [...stale, ...idle]),
    closed: [...stale.map(closedAs('stale')), ...idle.map(closedAs('idle'))],
  }
}

/** Ascending: the last element is the one to keep. */
function byKeepPriority(a: Conn, b: Conn): number {
  return a.lastActive - b.lastActive || a.lastSeen - b.lastSeen || byId(a, b)
}

function byId(a: Conn, b: Conn): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function closedAs(reason: CloseReason): (c: Conn) => Closed {
  return ({ id, user }) => ({ id, user, reason })
}
