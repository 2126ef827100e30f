/**
 * The comparison of the differential tests: one answer reached directly and one through the
 * tunnel, each reduced to a canonical form, and the list of differences between what the direct
 * answer says the tunnel should give and what it gave.
 *
 * What is never compared (the same for every case):
 * - `Date`: each sender stamps its own (RFC 9110 §6.6.1).
 * - Hop-by-hop fields: Connection and the fields it lists, Proxy-Connection, Keep-Alive, TE,
 *   Transfer-Encoding, Upgrade (RFC 9110 §7.6.1). They describe one connection, not the message.
 * - `X-Request-Id`: the gateway may add one by contract.
 * - The reason phrase: clients ignore it (RFC 9112 §4) and HTTP/2 has none.
 * - How repeated fields are split: fields of one name are compared joined with ", " (RFC 9110
 *   §5.3 lets any recipient combine them), except Set-Cookie, whose lines must stay apart.
 * - The value of `Content-Length`: the parser already read the body by it. Whether a length was
 *   declared is compared, with two allowances written down as notes: a tunnel may declare a length
 *   the origin did not (an intermediary may re-frame, RFC 9112 §6.3), and a Bun gateway may drop
 *   it on a streamed body (README, Known limits: oven-sh/bun#10507).
 * Everything else a case forgives or expects is one of its named rules.
 */
import { createHash } from 'node:crypto'
import type { RuntimeName } from './processes.ts'
import { bursts, type HeaderList, type RawResponse } from './raw-http.ts'

/** Where a case ran, as the contract rules need it. */
export interface DiffContext {
  readonly runtime: RuntimeName
  readonly routing: 'path' | 'host'
  /** host:port the consumer sent as Host to the gateway. */
  readonly publicHost: string
  /** What path routing puts in front of the origin's paths (`/t/<tunnel>`); '' for host routing. */
  readonly prefix: string
  /** host:port of the origin, as a direct client names it. */
  readonly originHost: string
}

/** A body as compared: UTF-8 text, a parsed JSON value (after a rule), a digest of other bytes, or no body at all. */
export type BodyView = { readonly text: string } | { readonly json: unknown } | { readonly sha256: string; readonly bytes: number } | { readonly none: true }

/** One answer reduced to what the comparison looks at. */
export interface Canonical {
  readonly status: number
  /** 1xx heads before the final one, as `<status> name: value; …`. */
  readonly interim: readonly string[]
  /** Lower-case names, values in arrival order (latin1: one char per byte), never-compared fields left out. */
  readonly headers: Readonly<Record<string, readonly string[]>>
  readonly lengthDeclared: boolean
  readonly body: BodyView
  /** The body bytes the view was made from (for rules that decode; not compared). */
  readonly raw: Buffer
  readonly trailers: Readonly<Record<string, readonly string[]>>
  /** Body arrivals grouped by gaps (only for cases that compare timing). */
  readonly bursts?: number
  /** Text messages of a WebSocket, in order (only for WebSocket cases). */
  readonly messages?: readonly string[]
  /** '' when the message ended as its framing says; otherwise what went wrong. */
  readonly failure: string
}

/**
 * A named normalisation. `canon` runs on both answers: variance that is the origin's own (random
 * ids, clocks). `expect` runs on the direct answer only and turns it into what the contract says
 * the tunnel must deliver (a prefixed Location, an added X-Forwarded-Host).
 */
export interface Rule {
  readonly name: string
  readonly canon?: (c: Canonical) => Canonical
  readonly expect?: (c: Canonical, ctx: DiffContext) => Canonical
}

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade'])
const NEVER_COMPARED = new Set(['date', 'x-request-id', 'content-length'])
const TEXT_MAX = 8 * 1024

/**
 * Header fields by lower-case name, minus hop-by-hop and never-compared ones: one value per name,
 * repeated fields joined with ", " in order (RFC 9110 §5.3), except Set-Cookie (one value per line).
 */
export function fieldMap(headers: HeaderList, drop: ReadonlySet<string> = NEVER_COMPARED): Record<string, string[]> {
  const listed = new Set<string>()
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'connection') for (const t of value.split(',')) listed.add(t.trim().toLowerCase())
  }
  const out: Record<string, string[]> = {}
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase()
    if (HOP_BY_HOP.has(name) || listed.has(name) || drop.has(name)) continue
    ;(out[name] ??= []).push(value)
  }
  for (const [name, values] of Object.entries(out)) if (name !== 'set-cookie' && values.length > 1) out[name] = [values.join(', ')]
  return sortKeys(out)
}

/** The same record with its keys in code-unit order, so JSON of equal records is equal text. */
export function sortKeys<T>(rec: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Text if the bytes are short UTF-8, else their sha256 and size. */
export function viewOf(raw: Buffer): BodyView {
  if (raw.length <= TEXT_MAX) {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(raw) }
    } catch {
      // Not UTF-8: fall through to the digest.
    }
  }
  return { sha256: createHash('sha256').update(raw).digest('hex'), bytes: raw.length }
}

/** The canonical form of one answer; `gapMs` set: also count its body's bursts. */
export function canonical(res: RawResponse, gapMs?: number, messages?: readonly string[]): Canonical {
  const head = res.head
  const names = new Set((head?.headers ?? []).map(([n]) => n.toLowerCase()))
  return {
    status: head?.status ?? 0,
    interim: res.interim.map((h) => `${h.status} ${Object.entries(fieldMap(h.headers)).map(([n, v]) => `${n}: ${v.join(', ')}`).join('; ')}`),
    headers: fieldMap(head?.headers ?? []),
    lengthDeclared: names.has('content-length') && !names.has('transfer-encoding'),
    body: res.framing === 'none' && res.body.length === 0 ? { none: true } : viewOf(res.body),
    raw: res.body,
    trailers: fieldMap(res.trailers),
    bursts: gapMs === undefined ? undefined : bursts(res.arrivals, gapMs),
    messages,
    failure: res.error ?? (res.complete ? '' : 'incomplete'),
  }
}

/** Apply every rule's `canon` to both sides and every `expect` to the direct side. */
export function expectedAndActual(direct: Canonical, tunnel: Canonical, rules: readonly Rule[], ctx: DiffContext): [Canonical, Canonical] {
  let expected = direct
  let actual = tunnel
  for (const r of rules) {
    if (r.canon !== undefined) {
      expected = r.canon(expected)
      actual = r.canon(actual)
    }
  }
  for (const r of rules) if (r.expect !== undefined) expected = r.expect(expected, ctx)
  return [expected, actual]
}

/** A header value for people: UTF-8 when the bytes are UTF-8, `\xNN` for other non-ASCII bytes. */
export function showBytes(latin1: string): string {
  const bytes = Buffer.from(latin1, 'latin1')
  try {
    return JSON.stringify(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return JSON.stringify(latin1).replace(/[\u0080-\u00ff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`)
  }
}

const show = (v: unknown, max = 300) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s
}
const showValues = (v: readonly string[] | undefined) => (v === undefined ? '(absent)' : `[${v.map(showBytes).join(', ')}]`)

export interface Comparison {
  /** One line per difference; empty when the tunnel was faithful. */
  readonly diffs: string[]
  /** Allowances that applied (see the module comment), for the report. */
  readonly notes: string[]
}

/** Compare what the tunnel gave with what was expected of it. */
export function compare(expected: Canonical, actual: Canonical, ctx: DiffContext): Comparison {
  const diffs: string[] = []
  const notes: string[] = []
  if (expected.failure !== '') diffs.push(`the direct request itself failed (${expected.failure}): the case is broken, not the tunnel`)
  if (actual.failure !== expected.failure) diffs.push(`ending: expected ${show(expected.failure || 'complete')}, got ${show(actual.failure || 'complete')}`)
  if (actual.status !== expected.status) diffs.push(`status: expected ${expected.status}, got ${actual.status}`)
  if (show(actual.interim, 2000) !== show(expected.interim, 2000)) diffs.push(`interim: expected ${show(expected.interim)}, got ${show(actual.interim)}`)
  for (const name of new Set([...Object.keys(expected.headers), ...Object.keys(actual.headers)])) {
    const e = expected.headers[name]
    const a = actual.headers[name]
    if (JSON.stringify(e) !== JSON.stringify(a)) diffs.push(`header ${name}: expected ${showValues(e)}, got ${showValues(a)}`)
  }
  if (expected.lengthDeclared && !actual.lengthDeclared) {
    if (ctx.runtime === 'bun') notes.push('Content-Length became chunked framing (Bun gateway, known limit)')
    else diffs.push('framing: the origin declared a Content-Length, the tunnel did not')
  } else if (!expected.lengthDeclared && actual.lengthDeclared && expected.body !== undefined && !('none' in expected.body)) {
    notes.push('the tunnel declared a Content-Length the origin did not (re-framed)')
  }
  if (show(actual.body, 100_000) !== show(expected.body, 100_000)) diffs.push(`body: expected ${show(expected.body)}, got ${show(actual.body)}`)
  if (JSON.stringify(actual.trailers) !== JSON.stringify(expected.trailers)) diffs.push(`trailers: expected ${show(expected.trailers)}, got ${show(actual.trailers)}`)
  if (actual.bursts !== expected.bursts) diffs.push(`timing: the origin's body came in ${expected.bursts} separate bursts, the tunnel's in ${actual.bursts}`)
  if (JSON.stringify(actual.messages) !== JSON.stringify(expected.messages)) diffs.push(`messages: expected ${show(expected.messages)}, got ${show(actual.messages)}`)
  return { diffs, notes }
}
