/**
 * One response-direction fuzz case, rebuilt from (seed, id) alone: the consumer's request, the
 * bytes the local service answers with, how they are split into writes and delayed, and how the
 * service ends the connection. The fuzz-origin and the campaign both call `planFor`, so the
 * request path (`/fz/<seed>/<id>`) is all the origin needs to know which answer to give.
 */
import { rng } from './mutator.ts'
import { RESPONSE_SEEDS, type ResponseSeed } from './response-corpus.ts'
import { mutateResponse } from './response-mutator.ts'
import { reference, type ConnectionEnd, type Reference } from './response-reference.ts'

/** The gateway's UPSTREAM_HEAD_TIMEOUT and UPSTREAM_IDLE_TIMEOUT during the fuzz (ms). */
export const FUZZ_HEAD_TIMEOUT_MS = 1500
export const FUZZ_IDLE_TIMEOUT_MS = 1500
/** A stall: long past either timeout, so that no case sits on the boundary. */
export const STALL_MS = 2 * FUZZ_HEAD_TIMEOUT_MS
/** Largest response a case writes. */
const MAX_BYTES = 512 * 1024

export type FuzzMethod = 'GET' | 'HEAD' | 'POST'

export interface Piece {
  readonly bytes: Buffer
  /** ms to wait before writing it. */
  readonly delayMs: number
}

export interface ResponsePlan {
  readonly seed: number
  readonly id: number
  readonly method: FuzzMethod
  /** The request target for the local service; the consumer sends `/t/<tunnel>` + this. */
  readonly path: string
  /** A POST's body (small, with a Content-Length). */
  readonly requestBody: string | undefined
  readonly seedName: string
  readonly expect: ResponseSeed['expect']
  /** The seed's bytes unchanged (only split, delayed, and ended in some way). */
  readonly unmutated: boolean
  readonly bytes: Buffer
  readonly pieces: readonly Piece[]
  readonly end: ConnectionEnd
  /** A delay of STALL_MS somewhere. */
  readonly stalls: boolean
  /** The consumer hangs up this many ms after sending (nothing is judged; no slot may leak). */
  readonly consumerLeavesAfterMs: number | undefined
  readonly ref: Reference
  /**
   * ms from the request until the gateway can know whether a final head comes: its last byte is
   * written, or (without one) the service closes; Infinity when it stays open without one.
   */
  readonly headKnownAtMs: number
}

export function casePath(seed: number, id: number): string {
  return `/fz/${seed}/${id}`
}

/** `{ seed, id }` from a request target made by `casePath`, or undefined. */
export function parseCasePath(target: string): { seed: number; id: number } | undefined {
  const m = /^\/fz\/(\d+)\/(\d+)$/.exec(target)
  return m === null ? undefined : { seed: Number(m[1]), id: Number(m[2]) }
}

/** The case `id` of the campaign seeded with `seed`. Deterministic. */
export function planFor(seed: number, id: number): ResponsePlan {
  const r = rng(seed * 1_000_003 + id + 7)
  const source = r.pick(RESPONSE_SEEDS)
  const method: FuzzMethod = source.method ?? (r.chance(0.1) ? 'HEAD' : r.chance(0.2) ? 'POST' : 'GET')
  const unmutated = r.chance(0.2)
  const bytes = unmutated ? source.bytes : mutateResponse(source.bytes, r, MAX_BYTES)
  // The connection end decides whether a close-delimited body is complete; pick it first.
  const draft = reference(bytes, method, 'fin')
  const reusable = draft.complete && draft.head?.keepAlive === true && draft.framing !== 'close' && draft.messageEnd === bytes.length
  const roll = r.next()
  const end: ConnectionEnd = reusable && roll < 0.6 ? 'open' : roll < 0.8 ? 'fin' : roll < 0.95 ? 'rst' : 'open'
  const ref = end === 'fin' ? draft : reference(bytes, method, end)
  const pieces = split(bytes, ref.messageEnd ?? bytes.length, r)
  const stalls = pieces.some((p) => p.delayMs >= STALL_MS)
  const consumerLeavesAfterMs = r.chance(0.03) ? r.int(100) : undefined
  return {
    seed,
    id,
    method,
    path: casePath(seed, id),
    requestBody: method === 'POST' ? `fuzz request body ${id}` : undefined,
    seedName: source.name,
    expect: source.expect,
    unmutated,
    bytes,
    pieces,
    end,
    stalls,
    consumerLeavesAfterMs,
    ref,
    headKnownAtMs: ref.head !== undefined ? doneAt(pieces, ref.head.endOffset) : end === 'open' ? Infinity : doneAt(pieces, bytes.length),
  }
}

/**
 * Cut `bytes` into 1-9 writes with short delays, rarely a stall (even before the first byte). Cuts fall only inside the first
 * response (before `limit`): bytes after it go out with its end, in one write, so that a stray
 * response is never written late enough to answer the next request on a kept-alive connection
 * (which no proxy can tell from a real answer).
 */
function split(bytes: Buffer, limit: number, r: ReturnType<typeof rng>): Piece[] {
  const cuts = new Set<number>()
  const n = r.chance(0.5) ? 0 : 1 + r.int(8)
  for (let i = 0; i < n && limit > 1; i++) cuts.add(1 + r.int(limit - 1))
  const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length]
  const pieces: Piece[] = []
  for (let i = 0; i + 1 < points.length; i++) {
    const delayMs = r.chance(i === 0 ? 0.01 : 0.03) ? STALL_MS : i > 0 && r.chance(0.5) ? r.int(40) : 0
    pieces.push({ bytes: bytes.subarray(points[i], points[i + 1]), delayMs })
  }
  return pieces.length === 0 ? [{ bytes, delayMs: 0 }] : pieces
}

function doneAt(pieces: readonly Piece[], offset: number): number {
  let at = 0
  let written = 0
  for (const p of pieces) {
    at += p.delayMs
    written += p.bytes.length
    if (written >= offset) return at
  }
  return at
}
