import { createRequire } from 'node:module'
import type Redis from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { Logger } from '../log/logger.ts'
import { ADMIT, INSTANCES, LEAVE, LOOKUP, PUBLISH, RELEASE } from './scripts.ts'
import { ENTRY_TTL_MS, LOOKUP_CACHE_MS, REFRESH_MS, UNREACHABLE_MS } from './timing.ts'

const PREFIX = 'burrow:'
// Tunnels looked up and remembered at once; a flood of names that do not exist evicts itself.
const CACHE_MAX = 10_000

/** Another instance holding live connections for a tunnel. */
export interface Holder {
  readonly id: string
  /** Its BURROW_INTERNAL_URL. */
  readonly url: string
  readonly isPublic: boolean
}

/** What this instance holds right now, taken at each refresh. */
export interface LocalHoldings {
  /** Tunnel → public, for every tunnel with a live (registered, not closing) connection here. */
  readonly tunnels: ReadonlyMap<string, boolean>
  /** Every admitted connection here: its user, id and agent slot key (their cluster-wide slots stay alive). */
  readonly conns: readonly { readonly user: string; readonly id: string; readonly slotKey: string }[]
  /** A small snapshot for other instances' /admin/stats (JSON-serialisable). */
  readonly info: Record<string, unknown>
  readonly draining: boolean
}

/** One instance as /admin/stats lists it. */
export interface InstanceView {
  readonly id: string
  readonly url: string
  readonly draining: boolean
  readonly info: Record<string, unknown>
}

export type AdmitVerdict = { readonly ok: true; readonly count: number } | { readonly ok: false; readonly count: number; readonly limit: number }

interface Scripts {
  burrowPublish(...args: (string | number)[]): Promise<number>
  burrowLookup(...args: string[]): Promise<string[]>
  burrowAdmit(...args: (string | number)[]): Promise<[number, number]>
  burrowRelease(...args: string[]): Promise<number>
  burrowLeave(...args: string[]): Promise<number>
  burrowInstances(...args: string[]): Promise<string[]>
}

export interface DirectoryOptions {
  readonly redisUrl: string
  readonly instanceId: string
  readonly log: Logger
  /** What this instance holds, read at every refresh. */
  readonly holdings: () => LocalHoldings
  readonly now?: () => number
}

/**
 * The tunnel directory in Redis: which instance holds live connections for which tunnel, and every
 * user's connections cluster-wide. This instance publishes its own entries every REFRESH_MS (and
 * soon after a change), and looks up others' through a short in-process cache. Redis being away is
 * an expected failure, logged once per outage: lookups then find nobody (the tunnel is served where
 * it is held locally, 404 elsewhere), admission falls back to the local limit, and the refresh
 * retries on its own.
 */
export class ClusterDirectory {
  readonly instanceId: string
  #url: string | undefined
  readonly #redis: Redis & Scripts
  readonly #opts: DirectoryOptions
  readonly #now: () => number
  readonly #cache = new LRUCache<string, { holders: readonly Holder[]; until: number }>({ max: CACHE_MAX })
  readonly #pending = new Map<string, Promise<readonly Holder[]>>()
  readonly #unreachable = new Map<string, number>()
  #timer: ReturnType<typeof setInterval> | undefined
  #soon: ReturnType<typeof setTimeout> | undefined
  #publishing: Promise<void> | undefined
  #left = false
  #down = false

  constructor(opts: DirectoryOptions) {
    this.#opts = opts
    this.instanceId = opts.instanceId
    this.#now = opts.now ?? Date.now
    // No offline queue: while Redis is away a lookup fails at once instead of holding a consumer's
    // request; ioredis reconnects by itself in the background.
    // Loaded on use: a gateway without REDIS_URL never loads ioredis.
    const RedisClient = createRequire(import.meta.url)('ioredis') as typeof Redis
    this.#redis = new RedisClient(opts.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `burrow-${opts.instanceId}` }) as Redis & Scripts
    this.#redis.on('error', (err: Error) => this.#trouble(err))
    const define = (name: keyof Scripts, lua: string) => this.#redis.defineCommand(name, { numberOfKeys: 0, lua })
    define('burrowPublish', PUBLISH)
    define('burrowLookup', LOOKUP)
    define('burrowAdmit', ADMIT)
    define('burrowRelease', RELEASE)
    define('burrowLeave', LEAVE)
    define('burrowInstances', INSTANCES)
  }

  /** This instance's internal URL once known (at `start`), else undefined. */
  get url(): string | undefined {
    return this.#url
  }

  /**
   * Connect, publish this instance at `url` and keep refreshing. Rejects when Redis cannot be
   * reached at start (a wrong REDIS_URL should stop the start, not be found out later).
   */
  async start(url: string): Promise<void> {
    this.#url = url
    await this.#redis.connect()
    await this.#publish()
    this.#timer ??= setInterval(() => void this.#publish(), REFRESH_MS)
    this.#opts.log.info('cluster_joined', { instance: this.instanceId, url })
  }

  /** Something changed here (a tunnel came or went): publish soon rather than at the next tick. */
  changed(): void {
    if (this.#timer === undefined || this.#soon !== undefined) return
    // A refresh under way took its snapshot already: publish again once it is done.
    if (this.#publishing !== undefined) {
      void this.#publishing.then(() => this.changed())
      return
    }
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      void this.#publish()
    }, 0)
  }

  async #publish(): Promise<void> {
    // One at a time: a slow Redis must not pile refreshes up.
    if (this.#publishing !== undefined || this.#url === undefined) return
    const h = this.#opts.holdings()
    const args: (string | number)[] = [PREFIX, this.instanceId, this.#url, ENTRY_TTL_MS, JSON.stringify(h.info), h.draining ? 1 : 0]
    const tunnels = this.#left ? [] : [...h.tunnels]
    args.push(tunnels.length)
    for (const [name, pub] of tunnels) args.push(name, pub ? 1 : 0)
    args.push(h.conns.length)
    for (const c of h.conns) args.push(c.user, c.id, c.slotKey)
    this.#publishing = this.#redis.burrowPublish(...args).then(
      () => {
        if (this.#down) this.#opts.log.info('cluster_redis_back', { instance: this.instanceId })
        this.#down = false
      },
      (err: Error) => this.#trouble(err),
    )
    await this.#publishing
    this.#publishing = undefined
  }

  /**
   * Other instances holding `tunnel`, from the cache when fresh (LOOKUP_CACHE_MS), else one Redis
   * round trip shared by every request asking at the same moment. Never rejects: Redis away
   * means nobody is found. Holders this instance could not reach lately are left out.
   */
  holders(tunnel: string): readonly Holder[] | Promise<readonly Holder[]> {
    const now = this.#now()
    const hit = this.#cache.get(tunnel)
    if (hit !== undefined && hit.until > now) return this.#reachable(hit.holders, now)
    let pending = this.#pending.get(tunnel)
    if (pending === undefined) {
      pending = this.#redis.burrowLookup(PREFIX, tunnel).then(
        (flat) => {
          const holders: Holder[] = []
          for (let i = 0; i + 2 < flat.length; i += 3) if (flat[i] !== this.instanceId) holders.push({ id: flat[i]!, url: flat[i + 1]!, isPublic: flat[i + 2] === '1' })
          this.#cache.set(tunnel, { holders, until: this.#now() + LOOKUP_CACHE_MS })
          return holders
        },
        (err: Error) => {
          this.#trouble(err)
          return []
        },
      )
      this.#pending.set(tunnel, pending)
      void pending.finally(() => this.#pending.delete(tunnel))
    }
    return pending.then((holders) => this.#reachable(holders, this.#now()))
  }

  #reachable(holders: readonly Holder[], now: number): readonly Holder[] {
    if (this.#unreachable.size === 0) return holders
    return holders.filter((h) => (this.#unreachable.get(h.id) ?? 0) <= now)
  }

  /**
   * A forward to `holder` failed before anything was sent (it could not be reached), or it said it
   * does not hold `tunnel` after all: forget what was cached, and skip an unreachable holder until
   * its entries would have expired anyway.
   */
  invalidate(tunnel: string, holder?: { id: string; unreachable: boolean }): void {
    this.#cache.delete(tunnel)
    if (holder?.unreachable === true) this.#unreachable.set(holder.id, this.#now() + UNREACHABLE_MS)
  }

  /**
   * Cluster admission of connection `connId` of `user`: at most `limit` connections of the user on
   * all instances together, after the same agent's same slot (`slotKey`, `<agent id>:<slot>`;
   * empty for stock OpenSSH) on any instance and `retiring` (connections here the local takeover
   * rule retires to make room for this one) left (scripts.ts ADMIT) (the Lua script counts and adds atomically; a dead instance's entries
   * have expired). With Redis away the verdict is `ok` (the local limit still holds): an outage of
   * the directory must not lock every agent out.
   */
  async admit(user: string, connId: string, limit: number, slotKey = '', retiring: readonly string[] = []): Promise<AdmitVerdict> {
    try {
      const [ok, count] = await this.#redis.burrowAdmit(PREFIX, user, this.instanceId, connId, limit, ENTRY_TTL_MS, slotKey, ...retiring)
      return ok === 1 ? { ok: true, count } : { ok: false, count, limit }
    } catch (err) {
      this.#trouble(err as Error)
      return { ok: true, count: -1 }
    }
  }

  /** Connection `connId` of `user` is gone: free its cluster-wide slot now (it would expire anyway). */
  release(user: string, connId: string): Promise<void> {
    return this.#redis.burrowRelease(PREFIX, user, this.instanceId, connId).then(
      () => undefined,
      (err: Error) => this.#trouble(err),
    )
  }

  /** Drain: stop being found as a holder at once (other instances' caches follow within LOOKUP_CACHE_MS). */
  async leave(): Promise<void> {
    this.#left = true
    await this.#redis.burrowLeave(PREFIX, this.instanceId).catch((err: Error) => this.#trouble(err))
  }

  /** Every live instance, this one included (stats). Empty when Redis is away. */
  async instances(): Promise<InstanceView[]> {
    try {
      const flat = await this.#redis.burrowInstances(PREFIX)
      const out: InstanceView[] = []
      for (let i = 0; i + 3 < flat.length; i += 4) {
        let info: Record<string, unknown> = {}
        try {
          info = JSON.parse(flat[i + 2]!) as Record<string, unknown>
        } catch {}
        out.push({ id: flat[i]!, url: flat[i + 1]!, info, draining: flat[i + 3] === '1' })
      }
      return out.sort((a, b) => a.id.localeCompare(b.id))
    } catch (err) {
      this.#trouble(err as Error)
      return []
    }
  }

  /** Stop refreshing and disconnect (entries expire within ENTRY_TTL_MS; `leave()` first to go at once). */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    clearTimeout(this.#soon)
    this.#timer = undefined
    await this.#publishing
    this.#redis.disconnect()
  }

  #trouble(err: Error): void {
    if (this.#down) return
    this.#down = true
    this.#opts.log.warn('cluster_redis_unavailable', { instance: this.instanceId, message: err.message })
  }
}

/** An agent connection's slot as the cluster names it: `<agent id>:<slot>`, or '' (stock OpenSSH, ws-stdio). */
export function slotKeyOf(agentId: string | undefined, slot: number | undefined): string {
  return agentId === undefined || slot === undefined ? '' : `${agentId}:${slot}`
}
