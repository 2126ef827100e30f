import { PersistentMap, toPersistent } from './persistent-map.ts'
import type { Conn, ConnId, PoolState, UserId } from './types.ts'

const NO_IDS: readonly ConnId[] = []

/** A pool with no connections that admits: `let pool = emptyPool()`. */
export function emptyPool(): PoolState {
  return { conns: PersistentMap.empty<Conn>(), byUser: PersistentMap.empty<readonly ConnId[]>(), draining: false }
}

/** The user's connection ids in admission order (empty if none). */
export function idsOf(state: PoolState, user: UserId): readonly ConnId[] {
  return state.byUser.get(user) ?? NO_IDS
}

/** The user's connections in admission order: `connectionsOf(pool, 'alice').length`. */
export function connectionsOf(state: PoolState, user: UserId): readonly Conn[] {
  const out: Conn[] = []
  for (const id of idsOf(state, user)) {
    const conn = state.conns.get(id)
    if (conn !== undefined) out.push(conn)
  }
  return out
}

/** State with `conn` replacing the connection of the same id (user and id unchanged, so the index stays). */
export function replaceConn(state: PoolState, conn: Conn): PoolState {
  return { ...state, conns: toPersistent(state.conns).set(conn.id, conn) }
}

/** Apply `f` to connection `id`; the same state when `id` is unknown or `f` returns its input. */
export function updateConn(state: PoolState, id: ConnId, f: (conn: Conn) => Conn): PoolState {
  const conn = state.conns.get(id)
  if (conn === undefined) return state
  const next = f(conn)
  return next === conn ? state : replaceConn(state, next)
}

/** State with a new connection added to both maps. */
export function addConn(state: PoolState, conn: Conn): PoolState {
  return {
    ...state,
    conns: toPersistent(state.conns).set(conn.id, conn),
    byUser: toPersistent(state.byUser).set(conn.user, [...idsOf(state, conn.user), conn.id]),
  }
}

/** State without `victims` (each must be in the pool); the same state when there are none. */
export function removeConns(state: PoolState, victims: readonly Conn[]): PoolState {
  if (victims.length === 0) return state
  let conns = toPersistent(state.conns)
  let byUser = toPersistent(state.byUser)
  for (const { id, user } of victims) {
    conns = conns.delete(id)
    const ids = (byUser.get(user) ?? NO_IDS).filter((other) => other !== id)
    byUser = ids.length === 0 ? byUser.delete(user) : byUser.set(user, ids)
  }
  return { ...state, conns, byUser }
}
