import type { Connection } from 'ssh2'
import type { Logger } from '../log/logger.ts'
import {
  admit,
  connectionsOf,
  drainAll,
  emptyPool,
  pick,
  poolStats,
  release,
  remove,
  sweep,
  touch,
  type Closed,
  type Conn,
  type Limits,
  type PoolError,
  type PoolState,
} from '../pool/index.ts'
import { retiredNotice } from '../transport/close-codes.ts'
import type { ForwardSpec } from '../transport/ssh-server.ts'
import type { LiveConn } from './live-conn.ts'
import { Traffic } from './traffic.ts'
import { WaitQueue } from './wait-queue.ts'

/** One forward as `addr:port`: `localhost:80`. */
const forwardKey = (spec: ForwardSpec): string => `${spec.bindAddr}:${spec.bindPort}`

/** A request's hold on one channel slot of a connection; `release()` exactly once. */
const NOT_FOUND: AcquireResult = { ok: false, code: 'tunnel_not_found' }

export interface Lease {
  readonly conn: LiveConn
  release(): void
}

export type AcquireResult = { ok: true; lease: Lease } | { ok: false; code: 'tunnel_not_found' | 'tunnel_saturated' | 'draining' }

/** Why the shell closed a connection, for logs and the metrics counter: the pool's reasons plus the admin's kick. */
export type ClosedReason = Closed['reason'] | 'admin'

/** One user's line in /admin/stats. */
export interface UserStatsView {
  readonly user: string
  readonly connections: number
  readonly busy: number
  readonly capacity: number
  readonly queued: number
  readonly requests: number
  readonly bytesIn: number
  readonly bytesOut: number
}

export interface RegistryOptions {
  readonly limits: Limits
  readonly queueMaxWaiting: number
  readonly queueTimeout: number
  readonly log: Logger
  readonly now?: () => number
}

/**
 * The imperative shell around the pure pool: it holds the current pool state and the live
 * connections, reads the clock once per operation, and carries out what the pool decides.
 */
export class TunnelRegistry {
  // Per connection, the forwards it holds (`addr:port`): it serves until the last is cancelled.
  readonly #forwards = new Map<string, Set<string>>()
  #state: PoolState = emptyPool()
  readonly #live = new Map<string, LiveConn>()
  readonly #queue: WaitQueue<Lease>
  readonly #opts: RegistryOptions
  readonly #now: () => number
  readonly #closedTotal = new Map<ClosedReason, number>()
  /** Requests and bytes since start, in total and per user. */
  readonly traffic = new Traffic()

  constructor(opts: RegistryOptions) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.#queue = new WaitQueue(opts.queueMaxWaiting, opts.queueTimeout)
  }

  get state(): PoolState {
    return this.#state
  }

  /** Track a transport-level connection (before SSH has registered a tunnel on it). */
  track(conn: LiveConn): void {
    this.#live.set(conn.id, conn)
  }

  get(id: string): LiveConn | undefined {
    return this.#live.get(id)
  }

  /** All tracked connections. */
  list(): LiveConn[] {
    return [...this.#live.values()]
  }

  /** `tcpip-forward` arrived: admit the connection into the user's pool, or say why not. */
  register(id: string, client: Connection, spec: ForwardSpec): { ok: true } | { ok: false; refusal: PoolError | { code: 'unknown_connection' } } {
    const conn = this.#live.get(id)
    if (conn === undefined) return { ok: false, refusal: { code: 'unknown_connection' } }
    const forwards = this.#forwards.get(id) ?? new Set<string>()
    if (conn.forward !== undefined) {
      // A second forward on the same connection maps to the same tunnel (see README).
      forwards.add(forwardKey(spec))
      this.#forwards.set(id, forwards)
      return { ok: true }
    }
    const now = this.#now()
    // The takeover rule judges staleness by lastSeen: bring the user's up to date first (the sweep
    // does this only every CLEANUP_INTERVAL), so a live connection never looks stale here.
    let state = this.#state
    for (const c of connectionsOf(state, conn.user)) {
      const live = this.#live.get(c.id)
      if (live !== undefined) state = touch(state, c.id, live.lastByteAt)
    }
    this.#state = state
    const result = admit(state, { id, user: conn.user, agentId: conn.agentId, slot: conn.slot }, now, this.#opts.limits)
    if (!result.ok) return { ok: false, refusal: result.error }
    this.#state = result.state
    conn.client = client
    conn.forward = spec
    this.#forwards.set(id, forwards.add(forwardKey(spec)))
    this.#opts.log.info('tunnel_registered', { conn: id, user: conn.user, public: conn.isPublic, transport: conn.transport })
    for (const r of result.retired) this.#closeRetired(r)
    // Requests may be waiting for this user's capacity: a new connection brings some.
    this.#serveWaiters(conn.user)
    return { ok: true }
  }

  /**
   * `cancel-tcpip-forward` (OpenSSH `ssh -O cancel -R …`): once the connection has no forward left,
   * it leaves the pool at once, so no new request is routed to it (its peer would refuse the
   * channel: a 502). Its SSH session and the requests in flight go on; a new `tcpip-forward`
   * registers it again. Cancelling a forward it never asked for changes nothing. True when the
   * connection left the pool.
   */
  cancel(id: string, spec: ForwardSpec): boolean {
    const conn = this.#live.get(id)
    const forwards = this.#forwards.get(id)
    if (conn === undefined || forwards === undefined || !forwards.delete(forwardKey(spec)) || forwards.size > 0) return false
    this.#forwards.delete(id)
    this.#state = remove(this.#state, id)
    conn.forward = undefined
    conn.client = undefined
    this.#opts.log.info('tunnel_cancelled', { conn: id, user: conn.user })
    if (connectionsOf(this.#state, conn.user).length === 0) this.#queue.flush(conn.user)
    return true
  }

  /** The connection's transport closed: it leaves the pool at once, not at the next sweep. */
  closed(id: string): void {
    const conn = this.#live.get(id)
    if (conn === undefined) return
    this.#live.delete(id)
    this.#forwards.delete(id)
    this.#state = remove(this.#state, id)
    conn.gone('the agent disconnected')
    if (conn.forward !== undefined) this.#opts.log.info('tunnel_closed', { conn: id, user: conn.user })
    if (connectionsOf(this.#state, conn.user).length === 0) this.#queue.flush(conn.user)
  }

  /** Does `user` have a tunnel, and is it public? */
  tunnelOf(user: string): { exists: boolean; isPublic: boolean } {
    let exists = false
    let isPublic = false
    for (const c of connectionsOf(this.#state, user)) {
      exists = true
      if (this.#live.get(c.id)?.isPublic) isPublic = true
    }
    return { exists, isPublic }
  }

  /**
   * A channel slot on the least-busy connection of `user`, waiting in the user's queue when all are
   * full. `signal` (the consumer going away) is asked for only when the request has to wait: on
   * Node, a request's signal builds a whole undici Request, about 8 % of a small GET's CPU.
   * Answers at once (no promise) unless the request has to wait.
   */
  acquire(user: string, signal?: () => AbortSignal | undefined): AcquireResult | Promise<AcquireResult> {
    const now = this.#now()
    const picked = pick(this.#state, user, now, this.#opts.limits)
    if (picked.ok) {
      this.#state = picked.state
      return { ok: true, lease: this.#lease(picked.id) }
    }
    if (picked.reason === 'no_tunnel') return NOT_FOUND
    return this.#waitForSlot(user, signal)
  }

  async #waitForSlot(user: string, signal?: () => AbortSignal | undefined): Promise<AcquireResult> {
    const waiting = this.#queue.wait(user, signal?.())
    if (waiting === 'full') return { ok: false, code: 'tunnel_saturated' }
    const lease = await waiting
    if (lease !== undefined) return { ok: true, lease }
    // Released empty-handed: the wait timed out, the tunnel went away, or the gateway began draining.
    if (this.#state.draining) return { ok: false, code: 'draining' }
    if (connectionsOf(this.#state, user).length === 0) return { ok: false, code: 'tunnel_not_found' }
    return { ok: false, code: 'tunnel_saturated' }
  }

  #lease(id: string): Lease {
    const conn = this.#live.get(id)!
    conn.requests++
    let released = false
    return {
      conn,
      release: () => {
        if (released) return
        released = true
        this.#state = release(this.#state, id, this.#now())
        this.#serveWaiters(conn.user)
      },
    }
  }

  #serveWaiters(user: string): void {
    while (this.#queue.has(user)) {
      const picked = pick(this.#state, user, this.#now(), this.#opts.limits)
      if (!picked.ok) return
      this.#state = picked.state
      const lease = this.#lease(picked.id)
      if (!this.#queue.handOff(user, lease)) {
        lease.release()
        return
      }
    }
  }

  /** Run the sweep now: close stale and surplus idle connections; returns what was closed. */
  sweepNow(): readonly Closed[] {
    const now = this.#now()
    let state = this.#state
    // Connections that never registered a tunnel are not in the pool, but a silent one (a peer
    // that died mid-handshake, a half-open socket) must not be held forever either.
    const silentUnregistered: Closed[] = []
    for (const conn of this.#live.values()) {
      if (conn.forward !== undefined) state = touch(state, conn.id, conn.lastByteAt)
      else if (conn.closing === undefined && now - conn.lastByteAt >= this.#opts.limits.staleAfter) {
        silentUnregistered.push({ id: conn.id, user: conn.user, reason: 'stale' })
      }
    }
    const result = sweep(state, now, this.#opts.limits)
    this.#state = result.state
    const closed = silentUnregistered.length === 0 ? result.closed : [...silentUnregistered, ...result.closed]
    for (const c of closed) this.#closeRetired(c)
    return closed
  }

  #closeRetired(c: Closed): void {
    const conn = this.#live.get(c.id)
    this.#count(c.reason)
    this.#opts.log.info('connection_retired', { conn: c.id, user: c.user, agent: conn?.agentId, slot: conn?.slot, reason: c.reason })
    const notice = retiredNotice(c.reason)
    // A stale peer will not answer a close handshake: cut the socket right after the disconnect.
    conn?.close(notice.reason, notice.code, { peerGone: c.reason === 'stale' })
    this.#live.delete(c.id)
  }

  /** An admin closes connection `id` (SSH disconnect, reason "closed by admin"); false if unknown. */
  kick(id: string): { id: string; user: string; reason: string } | undefined {
    const conn = this.#live.get(id)
    if (conn === undefined) return undefined
    this.#count('admin')
    this.#opts.log.info('connection_kicked', { conn: id, user: conn.user, agent: conn.agentId })
    const notice = retiredNotice('admin')
    conn.close(notice.reason, notice.code)
    // It leaves the pool now: no new request is sent to a connection that is going away.
    this.#state = remove(this.#state, id)
    return { id, user: conn.user, reason: notice.reason }
  }

  #count(reason: ClosedReason): void {
    this.#closedTotal.set(reason, (this.#closedTotal.get(reason) ?? 0) + 1)
  }

  /** Connections the gateway closed since start, by reason (metrics). */
  closedTotals(): ReadonlyMap<ClosedReason, number> {
    return this.#closedTotal
  }

  /** Stop admitting tunnels; every connection drains (no new requests are picked). */
  drain(): void {
    this.#state = drainAll(this.#state)
    this.#queue.flush()
  }

  /** Pool and traffic figures for /admin/stats and /metrics; `users` sorted by id. */
  stats() {
    const pool = poolStats(this.#state, this.#opts.limits)
    const queuedBy = this.#queue.sizes()
    let queued = 0
    for (const n of queuedBy.values()) queued += n
    const users: UserStatsView[] = pool.users.map((u) => ({
      user: u.user,
      connections: u.connections,
      busy: u.busy,
      capacity: u.capacity,
      queued: queuedBy.get(u.user) ?? 0,
      ...this.traffic.ofUser(u.user),
    }))
    return {
      /** Transport-level connections, including ones that have not registered a tunnel yet. */
      connections: this.#live.size,
      /** Connections admitted into a pool (serving a tunnel). */
      tunnels: pool.connections,
      busy: pool.busy,
      queued,
      requests: this.traffic.total.requests,
      users,
    }
  }

  /** The pool's view of connection `id` (busy, lastActive, state), if it is in the pool. */
  poolEntry(id: string): Conn | undefined {
    return this.#state.conns.get(id)
  }
}
