import { PersistentMap } from '../../src/pool/persistent-map.ts'
import type { Conn, ConnId, Limits, PoolState, UserId } from '../../src/pool/index.ts'

/** The seed defaults. */
export const limits: Limits = {
  maxConnectionsPerUser: 3,
  sshMaxChannels: 10,
  maxIdleTime: 300_000,
  staleAfter: 180_000,
}

/** A connection with every time at 0, idle and ready, unless overridden. */
export function conn(id: ConnId, user: UserId, over: Partial<Omit<Conn, 'id' | 'user'>> = {}): Conn {
  return { id, user, agentId: undefined, slot: undefined, openedAt: 0, lastSeen: 0, lastActive: 0, busy: 0, state: 'ready', ...over }
}

function index(conns: readonly Conn[]): [UserId, ConnId[]][] {
  const byUser = new Map<UserId, ConnId[]>()
  for (const c of conns) byUser.set(c.user, [...(byUser.get(c.user) ?? []), c.id])
  return [...byUser]
}

/** A pool holding `conns` (admission order = array order), built like the library builds it. */
export function poolOf(conns: readonly Conn[], draining = false): PoolState {
  return {
    conns: PersistentMap.from(conns.map((c) => [c.id, c] as const)),
    byUser: PersistentMap.from(index(conns)),
    draining,
  }
}

/** The same pool on native Maps, as a hand-written shell test might build it. */
export function nativePoolOf(conns: readonly Conn[], draining = false): PoolState {
  return { conns: new Map(conns.map((c) => [c.id, c] as const)), byUser: new Map(index(conns)), draining }
}

/** Plain, order-independent picture of a state, for toEqual. */
export function view(state: PoolState): { conns: Conn[]; byUser: [UserId, readonly ConnId[]][]; draining: boolean } {
  const byId = <T extends [string, unknown]>(a: T, b: T) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  return {
    conns: [...state.conns].sort(byId).map(([, c]) => ({ ...c })),
    byUser: [...state.byUser].sort(byId).map(([u, ids]) => [u, [...ids]]),
    draining: state.draining,
  }
}

/**
 * Freeze a state all the way down: objects and arrays frozen; a native Map gets mutators
 * that throw (Object.freeze does not stop Map#set). PersistentMap has no mutators at all.
 */
export function deepFreeze<T>(value: T): T {
  if (value instanceof Map) {
    for (const name of ['set', 'delete', 'clear'] as const) {
      Object.defineProperty(value, name, {
        value: () => {
          throw new Error(`Cannot ${name}: this map is frozen`)
        },
      })
    }
  }
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    const children = value instanceof Map || value instanceof PersistentMap ? [...value.values()] : Object.values(value)
    for (const child of children) deepFreeze(child)
  }
  return value
}
