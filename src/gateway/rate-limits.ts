import { LRUCache } from 'lru-cache'
import type { Config } from '../config/index.ts'
import type { Logger } from '../log/logger.ts'
import { clientKey } from '../rate-limit/client-key.ts'
import { isFull, refund, take, type Bucket, type BucketLimit } from '../rate-limit/token-bucket.ts'

/** Which limit refused an attempt. */
export type RateScope = 'consumer_ip' | 'consumer_user' | 'agent_ip'

export type RateVerdict = { readonly ok: true } | { readonly ok: false; readonly scope: RateScope; readonly retryAfterMs: number }

/** The gateway's three limits; each call takes one token from the key's bucket (or is refused). */
export interface RateLimits {
  /** A consumer request from `address` (any tunnel). Checked before the token, so floods stay cheap. */
  consumerIp(address: string | undefined): RateVerdict
  /** A consumer request to `user`'s tunnel, checked once the request is authorized. */
  consumerUser(user: string): RateVerdict
  /** An agent connection attempt from `address` (/tunnel upgrade or SSH_PORT accept). */
  agentIp(address: string | undefined): RateVerdict
  /**
   * An attempt from `address` became a tunnel in the pool: its token goes back. The limit is there
   * for floods, guessing and reconnect loops, which never get that far; agents behind one address
   * (a NAT, an office) coming back after a restart then only queue behind the burst for a moment.
   */
  agentAdmitted(address: string | undefined): void
}

// Buckets are per key (IP, /64 or user). An attacker with many addresses must not grow this map
// without bound: the least recently used keys are forgotten, which only ever gives a key a full
// bucket back, never refuses someone who was not limited.
const MAX_KEYS = 100_000
const OK: RateVerdict = { ok: true }

interface Entry {
  bucket: Bucket
  /** Refusing right now: only the first refusal of a run is logged. */
  refusing: boolean
}

class KeyedBuckets {
  readonly #entries = new LRUCache<string, Entry>({ max: MAX_KEYS })

  constructor(
    readonly scope: RateScope,
    readonly limit: BucketLimit,
    readonly log: Logger,
  ) {}

  take(key: string, now: number): RateVerdict {
    const entry = this.#entries.get(key)
    const result = take(entry?.bucket, now, this.limit)
    if (result.ok) {
      if (isFull(result.bucket, now, this.limit)) this.#entries.delete(key)
      else this.#entries.set(key, { bucket: result.bucket, refusing: false })
      return OK
    }
    // A flood must not become a log flood: one line when a key starts being refused.
    if (entry?.refusing !== true) this.log.warn('rate_limited', { scope: this.scope, key, retryAfterMs: result.retryAfterMs })
    this.#entries.set(key, { bucket: result.bucket, refusing: true })
    return { ok: false, scope: this.scope, retryAfterMs: result.retryAfterMs }
  }

  refund(key: string, now: number): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) return
    const bucket = refund(entry.bucket, now, this.limit)
    if (isFull(bucket, now, this.limit)) this.#entries.delete(key)
    else this.#entries.set(key, { bucket, refusing: entry.refusing })
  }
}

type LimitConfig = Pick<
  Config,
  'rateLimitUserPerSecond' | 'rateLimitUserBurst' | 'rateLimitIpPerSecond' | 'rateLimitIpBurst' | 'rateLimitAgentPerMinute' | 'rateLimitAgentBurst'
>

/**
 * The shell around the pure token bucket: one keyed set of buckets per limit, the clock read once
 * per attempt. A rate of 0 turns that limit off. An unknown address (an embedding host whose
 * server gives none) is not limited by address: there is nothing to attribute it to.
 * Example: `const limits = createRateLimits(config, log); limits.agentIp('203.0.113.7')`.
 */
export function createRateLimits(config: LimitConfig, log: Logger, now: () => number = Date.now): RateLimits {
  const make = (scope: RateScope, perSecond: number, burst: number) =>
    perSecond > 0 ? new KeyedBuckets(scope, { perSecond, burst }, log) : undefined
  const ip = make('consumer_ip', config.rateLimitIpPerSecond, config.rateLimitIpBurst)
  const user = make('consumer_user', config.rateLimitUserPerSecond, config.rateLimitUserBurst)
  const agent = make('agent_ip', config.rateLimitAgentPerMinute / 60, config.rateLimitAgentBurst)
  const byAddress = (buckets: KeyedBuckets | undefined, address: string | undefined) =>
    buckets === undefined || address === undefined ? OK : buckets.take(clientKey(address), now())
  return {
    consumerIp: (address) => byAddress(ip, address),
    consumerUser: (name) => (user === undefined ? OK : user.take(name, now())),
    agentIp: (address) => byAddress(agent, address),
    agentAdmitted: (address) => {
      if (agent !== undefined && address !== undefined) agent.refund(clientKey(address), now())
    },
  }
}

/** Retry-After in whole seconds (RFC 9110 §10.2.3), at least 1. */
export function retryAfterSeconds(ms: number): string {
  return String(Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 60)
}
