import { addConn, idsOf, removeConns } from './state.ts'
import type { AdmitResult, Closed, Conn, ConnId, Limits, PoolState, UserId } from './types.ts'

/** Who a new connection says it is: `{ id: 'c4', user: 'alice', agentId: 'k3x…', slot: 1 }`. */
export interface Newcomer {
  readonly id: ConnId
  readonly user: UserId
  /** Agent instance (random per agent process); absent for stock OpenSSH and ws-stdio. */
  readonly agentId?: string | undefined
  /** The instance's slot this connection fills (0, 1, …); only meaningful with `agentId`. */
  readonly slot?: number | undefined
}

/**
 * Admit a new connection: `admit(pool, { id: 'c4', user: 'alice', agentId: 'k3x', slot: 1 }, now, limits)`.
 * Refuses with `draining` (pool draining), `duplicate_connection` (id taken) or
 * `user_connection_limit` (no slot free for it).
 *
 * The takeover rule (what a newcomer may retire, and nothing else):
 * 1. its own dead slot: a connection of the same user, same agent instance and same slot is retired
 *    (reason `replaced`), at the limit or not. An agent redials a slot only once that slot's
 *    connection ended on its side, so the old one is dead even if the gateway has not noticed.
 * 2. at the limit, connections that are stale (`now - lastSeen >= staleAfter`: gone, whoever they
 *    belonged to), longest silent first (reason `stale`).
 * A live connection of any other slot, of the same instance or another one, is never taken: two
 * agents of one user that want more than the limit get `user_connection_limit` for the slots they
 * lack, instead of retiring each other in turn.
 * `now` must be the time the pool's `lastSeen` values were last brought up to date (the shell
 * touches the user's connections first), or a live one could look stale.
 */
export function admit(state: PoolState, conn: Newcomer, now: number, limits: Limits): AdmitResult {
  if (state.draining) return { ok: false, error: { code: 'draining' } }
  if (state.conns.has(conn.id)) return { ok: false, error: { code: 'duplicate_connection', id: conn.id } }
  const ids = idsOf(state, conn.user)
  const own = ownSlot(state, ids, conn)
  const others = own === undefined ? ids : ids.filter((id) => id !== own.id)
  // Normally 0 or 1; more only if the limit was lowered under live connections.
  const excess = others.length + 1 - limits.maxConnectionsPerUser
  const stale = excess > 0 ? longestSilent(state, others, now, limits.staleAfter).slice(0, excess) : []
  if (stale.length < excess) return { ok: false, error: { code: 'user_connection_limit', max: limits.maxConnectionsPerUser } }
  const retired: Closed[] = [
    ...(own === undefined ? [] : [{ id: own.id, user: own.user, reason: 'replaced' as const }]),
    ...stale.map(({ id, user }) => ({ id, user, reason: 'stale' as const })),
  ]
  const added: Conn = {
    id: conn.id,
    user: conn.user,
    agentId: conn.agentId,
    slot: conn.agentId === undefined ? undefined : conn.slot,
    openedAt: now,
    lastSeen: now,
    lastActive: now,
    busy: 0,
    state: 'ready',
  }
  const base = removeConns(state, own === undefined ? stale : [own, ...stale])
  return { ok: true, state: addConn(base, added), retired }
}

/** The user's connection that the newcomer's instance held in the same slot, if any. */
function ownSlot(state: PoolState, ids: readonly ConnId[], conn: Newcomer): Conn | undefined {
  if (conn.agentId === undefined || conn.slot === undefined) return undefined
  for (const id of ids) {
    const c = state.conns.get(id)
    if (c !== undefined && c.agentId === conn.agentId && c.slot === conn.slot) return c
  }
  return undefined
}

/** The stale connections among `ids`, longest silent first (ties: admission order). */
function longestSilent(state: PoolState, ids: readonly ConnId[], now: number, staleAfter: number): Conn[] {
  const stale: Conn[] = []
  for (const id of ids) {
    const c = state.conns.get(id)
    if (c !== undefined && now - c.lastSeen >= staleAfter) stale.push(c)
  }
  // Array.prototype.sort is stable, so equal lastSeen keeps admission order.
  return stale.sort((a, b) => a.lastSeen - b.lastSeen)
}
