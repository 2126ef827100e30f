/** Connection id, unique within the pool (e.g. `c-7f3a`). */
export type ConnId = string

/** Authenticated identity (token subject) that owns connections, e.g. `alice`. */
export type UserId = string

/** Pool limits, read once from config and passed to every transition that needs them. */
export interface Limits {
  /** Most connections one user may hold at once (draining ones count), e.g. 3. */
  readonly maxConnectionsPerUser: number
  /** Most requests in flight on one connection (each holds one SSH channel), e.g. 10. */
  readonly sshMaxChannels: number
  /** Ms without a request before a surplus connection is retired, e.g. 300000. */
  readonly maxIdleTime: number
  /**
   * Ms without a sign of life after which a connection is stale: the keep-alives a peer may miss
   * (wire/MISSED_KEEPALIVES) times the keep-alive interval, e.g. 180000.
   */
  readonly staleAfter: number
}

/** `ready` connections take new requests; `draining` ones only finish what they hold. */
export type ConnState = 'ready' | 'draining'

/** One agent SSH session as the pool sees it. */
export interface Conn {
  readonly id: ConnId
  readonly user: UserId
  /**
   * The agent instance that dialled (random per agent process), when it said; stock OpenSSH and
   * ws-stdio do not. With `slot` it names one of the instance's connections (see admit()).
   */
  readonly agentId: string | undefined
  /**
   * Which of its connections the instance meant this to be (0, 1, …): an agent redials a slot only
   * after that slot's previous connection ended on its side. Undefined when the agent did not say.
   */
  readonly slot: number | undefined
  readonly openedAt: number
  /** Last sign of life from the peer (any packet), ms. */
  readonly lastSeen: number
  /** Last time a request started or ended on it, ms (drives idleness). */
  readonly lastActive: number
  /** Requests in flight, each holding one channel; 0 ≤ busy ≤ sshMaxChannels. */
  readonly busy: number
  readonly state: ConnState
}

/**
 * The whole pool as one immutable value.
 * `conns` and `byUser` are persistent maps (structure-sharing, O(log n) updates); their
 * iteration order is unspecified. `byUser` lists each user's ids in admission order and
 * never holds an empty list.
 */
export interface PoolState {
  readonly conns: ReadonlyMap<ConnId, Conn>
  readonly byUser: ReadonlyMap<UserId, readonly ConnId[]>
  /** Set by drainAll(): no more admissions. */
  readonly draining: boolean
}

/** Why admit() refused, as data: `{ code: 'user_connection_limit', max: 3 }`. */
export type PoolError =
  | { readonly code: 'user_connection_limit'; readonly max: number }
  | { readonly code: 'draining' }
  | { readonly code: 'duplicate_connection'; readonly id: ConnId }

/** Why the pool asks the shell to close a connection. */
export type CloseReason = 'stale' | 'idle' | 'replaced'

/** A connection the shell must close, and why: `{ id: 'c2', user: 'alice', reason: 'idle' }`. */
export interface Closed {
  readonly id: ConnId
  readonly user: UserId
  readonly reason: CloseReason
}

/** Result of admit(): the next state plus connections the shell must close, or a refusal. */
export type AdmitResult =
  | { readonly ok: true; readonly state: PoolState; readonly retired: readonly Closed[] }
  | { readonly ok: false; readonly error: PoolError }

/** Result of pick(): the chosen connection, or why there is none. */
export type PickResult =
  | { readonly ok: true; readonly state: PoolState; readonly id: ConnId }
  | { readonly ok: false; readonly reason: 'no_tunnel' | 'saturated' }

/** Result of sweep(): the next state and what the shell must close. */
export interface SweepResult {
  readonly state: PoolState
  readonly closed: readonly Closed[]
}

/** Per-user numbers for /admin/stats and metrics. */
export interface UserStats {
  readonly user: UserId
  readonly connections: number
  readonly busy: number
  /** Ready connections × sshMaxChannels: requests the user could have in flight now. */
  readonly capacity: number
}

/** Pool-wide numbers; `users` sorted by user id. */
export interface PoolStats {
  readonly connections: number
  readonly busy: number
  readonly users: readonly UserStats[]
}
