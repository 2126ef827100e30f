import { addConn, idsOf, removeConns } from './state.ts'
import type { AdmitResult, Closed, Conn, ConnId, Limits, PoolState, UserId } from './types.ts'

/**
 * Admit a new connection: `admit(pool, { id: 'c4', user: 'alice', agentId: 'a1' }, now, limits)`.
 * Refuses with `draining` (pool draining), `duplicate_connection` (id taken) or
 * `user_connection_limit` (user at the limit). At the limit, a connection carrying `agentId`
 * instead retires that same agent's oldest connection of this user (reason `replaced`): a
 * reconnecting agent is never locked out by its own dead slot. Another agent's slots are never taken.
 */
export function admit(
  state: PoolState,
  conn: { readonly id: ConnId; readonly user: UserId; readonly agentId?: string },
  now: number,
  limits: Limits,
): AdmitResult {
  if (state.draining) return { ok: false, error: { code: 'draining' } }
  if (state.conns.has(conn.id)) return { ok: false, error: { code: 'duplicate_connection', id: conn.id } }

  const ids = idsOf(state, conn.user)
  // Normally 1 when at the limit; more only if the limit was lowered under live connections.
  const excess = ids.length + 1 - limits.maxConnectionsPerUser
  let base = state
  let retired: readonly Closed[] = []
  if (excess > 0) {
    const victims = conn.agentId === undefined ? [] : oldestOfAgent(state, ids, conn.agentId, excess)
    if (victims.length < excess) {
      return { ok: false, error: { code: 'user_connection_limit', max: limits.maxConnectionsPerUser } }
    }
    base = removeConns(state, victims)
    retired = victims.map(({ id, user }) => ({ id, user, reason: 'replaced' }))
  }

  const added: Conn = {
    id: conn.id,
    user: conn.user,
    agentId: conn.agentId,
    openedAt: now,
    lastSeen: now,
    lastActive: now,
    busy: 0,
    state: 'ready',
  }
  return { ok: true, state: addConn(base, added), retired }
}

/** Up to `count` of the agent's connections among `ids`, oldest first (ties: admission order). */
function oldestOfAgent(state: PoolState, ids: readonly ConnId[], agentId: string, count: number): Conn[] {
  const mine: Conn[] = []
  for (const id of ids) {
    const c = state.conns.get(id)
    if (c !== undefined && c.agentId === agentId) mine.push(c)
  }
  // Array.prototype.sort is stable, so equal openedAt keeps admission order.
  return mine.sort((a, b) => a.openedAt - b.openedAt).slice(0, count)
}
