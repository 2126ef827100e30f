/**
 * A token bucket, as pure functions over an immutable value: a bucket holds up to `burst` tokens,
 * refills at `perSecond`, and each admitted attempt takes one. Time is an argument (`now`, ms), so
 * the shell reads the clock once and tests need no sleeps.
 */

/** How fast a bucket refills and how much it holds. */
export interface BucketLimit {
  /** Tokens added per second (may be fractional: 1/60 is one a minute). */
  readonly perSecond: number
  /** Capacity: how many attempts may come at once after a quiet spell. */
  readonly burst: number
}

/** A bucket's content at a moment. A bucket never seen before is full. */
export interface Bucket {
  readonly tokens: number
  /** When `tokens` was computed (ms). */
  readonly at: number
}

// Refill is computed in floating point: someone who waited exactly `retryAfterMs` may land a
// rounding error short of a whole token, and must not be refused for it.
const EPSILON = 1e-9

export type TakeResult =
  | { readonly ok: true; readonly bucket: Bucket }
  | { readonly ok: false; readonly bucket: Bucket; readonly retryAfterMs: number }

/** Tokens in `bucket` at `now`. A clock that went backwards refills nothing (and takes nothing away). */
export function level(bucket: Bucket | undefined, now: number, limit: BucketLimit): number {
  if (bucket === undefined) return limit.burst
  const elapsed = Math.max(0, now - bucket.at)
  return Math.min(limit.burst, bucket.tokens + (elapsed * limit.perSecond) / 1000)
}

/**
 * Take one token at `now`, or say how long until one is there.
 * `take(undefined, 0, { perSecond: 1, burst: 2 })` → `{ ok: true, bucket: { tokens: 1, at: 0 } }`.
 */
export function take(bucket: Bucket | undefined, now: number, limit: BucketLimit): TakeResult {
  const at = bucket === undefined ? now : Math.max(now, bucket.at)
  const tokens = level(bucket, now, limit)
  if (tokens >= 1 - EPSILON) return { ok: true, bucket: { tokens: Math.max(0, tokens - 1), at } }
  const retryAfterMs = limit.perSecond > 0 ? Math.ceil(((1 - tokens) * 1000) / limit.perSecond) : Infinity
  return { ok: false, bucket: { tokens, at }, retryAfterMs }
}

/** A bucket that has refilled completely is the same as no bucket: the shell may forget it. */
export function isFull(bucket: Bucket, now: number, limit: BucketLimit): boolean {
  return level(bucket, now, limit) >= limit.burst
}

/**
 * Give one token back at `now` (never past `burst`): an attempt that turned out legitimate (an
 * agent admitted to the pool) should not have spent the budget meant for floods and guessing.
 * `refund({ tokens: 0, at: 0 }, 0, { perSecond: 1, burst: 2 })` → `{ tokens: 1, at: 0 }`.
 */
export function refund(bucket: Bucket | undefined, now: number, limit: BucketLimit): Bucket {
  const at = bucket === undefined ? now : Math.max(now, bucket.at)
  return { tokens: Math.min(limit.burst, level(bucket, now, limit) + 1), at }
}
