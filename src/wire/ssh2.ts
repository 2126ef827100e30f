import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import type * as Ssh2 from 'ssh2'

/**
 * The ssh2 module, loaded once for all of Burrow (every value import of 'ssh2' goes through here),
 * with its per-packet random padding drawn from a pool.
 *
 * ssh2 fills each packet's padding (RFC 4253 §6: 4 to 255 random bytes) with one
 * `crypto.randomFillSync` call, which costs Node many times a copy from a pool refilled 64 KiB at a
 * time, and was a visible share of a Node gateway's CPU (docs/BENCHMARKS.md, "Allocations per
 * request"). The pool holds the same CSPRNG output, and every byte is handed out once.
 *
 * Scoped to ssh2: it takes `randomFillSync` from 'crypto' when it loads, so the pooled function is
 * in place only while ssh2 loads, and the process's `crypto` is restored at once.
 */
const POOL_BYTES = 64 * 1024
/** Larger requests go straight to the CSPRNG (a pool is only worth it for the small ones). */
const POOLED_MAX = 256

const original = crypto.randomFillSync
const pool = Buffer.allocUnsafe(POOL_BYTES)
let at = POOL_BYTES
let served = 0

/** Bytes handed out from the pool so far (a test's way to see that ssh2 draws from it). */
export function pooledRandomBytesServed(): number {
  return served
}

/**
 * `randomFillSync(buf, offset, size)` for the small fills of ssh2's packets; anything else (other
 * argument shapes, large sizes) goes to the original with its own checks and errors.
 */
export function pooledRandomFill<T extends NodeJS.ArrayBufferView>(buf: T, offset?: number, size?: number): T {
  if (!(buf instanceof Uint8Array) || typeof offset !== 'number' || typeof size !== 'number' || size > POOLED_MAX || size < 0 || offset < 0 || offset + size > buf.byteLength || !Number.isInteger(offset) || !Number.isInteger(size)) {
    return (original as (b: T, o?: number, s?: number) => T)(buf, offset, size)
  }
  if (at + size > POOL_BYTES) {
    original(pool)
    at = 0
  }
  // Each pool byte is handed out once: `at` only moves forward until the next refill.
  pool.copy(buf, offset, at, at + size)
  at += size
  served += size
  return buf
}

function load(): typeof Ssh2 {
  const require = createRequire(import.meta.url)
  const target = crypto as { randomFillSync: typeof crypto.randomFillSync }
  target.randomFillSync = pooledRandomFill as typeof crypto.randomFillSync
  try {
    return require('ssh2') as typeof Ssh2
  } finally {
    target.randomFillSync = original
  }
}

const ssh2: typeof Ssh2 = load()
export default ssh2
