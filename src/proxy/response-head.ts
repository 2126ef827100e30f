import { connectionListed, HOP_BY_HOP } from './headers.ts'
import type { FieldList } from './upstream-response.ts'

/**
 * The checks a local service's response head must pass before any of it reaches a consumer. A
 * service is trusted with its own tunnel only: what a runtime's server would refuse to send (and on
 * Deno, panic over), or could only send mangled, ends as one 502 for that request and nothing more.
 */

/** Header fields a response may carry. Five thousand reset consumers' connections on Bun and Node. */
export const MAX_RESPONSE_FIELDS = 256
/** Bytes of a response head (status line and fields); the parser stops reading past this. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024

// RFC 9110 §5.1: field-name = token; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-"
// / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// RFC 9110 §5.5: field-value = *field-content, field-vchar = VCHAR / obs-text, with SP and HTAB
// between. Anything else is a control byte (NUL, CR, LF, ESC, DEL…) that no server may pass on.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
// RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
const REASON = FIELD_VALUE

export type HeadVerdict =
  | { readonly ok: true; readonly statusText: string; readonly headers: FieldList }
  | { readonly ok: false; readonly reason: string }

/**
 * Check a final response head and return the fields a consumer may get. `raw` is the parser's
 * `[name, value, …]` list with values as latin1 byte strings. Refused: a status outside 200–599
 * (1xx are interim and handled before this), more than MAX_RESPONSE_FIELDS fields, a field name
 * that is not a token, a value with control bytes, or ambiguous framing (RFC 9112 §6.3). Removed:
 * hop-by-hop fields and the fields the service's Connection header names (RFC 9110 §7.6.1). A reason
 * phrase with control bytes is dropped rather than refused: nothing depends on it.
 */
export function checkResponseHead(status: number, statusText: string, raw: readonly string[]): HeadVerdict {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return { ok: false, reason: `status ${JSON.stringify(String(status))} is not a final HTTP status (200-599)` }
  }
  if (raw.length / 2 > MAX_RESPONSE_FIELDS) return { ok: false, reason: `more than ${MAX_RESPONSE_FIELDS} header fields` }
  let listed: Set<string> | undefined
  let lengths = 0
  let codings = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    const value = raw[i + 1]!
    if (!TOKEN.test(name)) return { ok: false, reason: `header name ${JSON.stringify(name.slice(0, 40))} is not a token` }
    if (!FIELD_VALUE.test(value)) return { ok: false, reason: `header ${name.slice(0, 40)} holds a control character` }
    const lower = name.toLowerCase()
    if (lower === 'connection') listed = connectionListed(value, listed)
    else if (lower === 'content-length') {
      if (++lengths > 1) return { ok: false, reason: 'more than one Content-Length' }
      if (!/^\d{1,15}$/.test(value)) return { ok: false, reason: `Content-Length ${JSON.stringify(value.slice(0, 20))} is not a number` }
    } else if (lower === 'transfer-encoding') {
      if (++codings > 1 || value.toLowerCase() !== 'chunked') return { ok: false, reason: 'a Transfer-Encoding other than chunked' }
    }
  }
  if (lengths > 0 && codings > 0) return { ok: false, reason: 'both Content-Length and Transfer-Encoding' }
  return { ok: true, statusText: REASON.test(statusText) ? statusText : '', headers: endToEnd(raw, listed) }
}

/**
 * The fields of an interim (1xx) response worth relaying (103 Early Hints' Link fields, say), or
 * undefined when one of them could not be sent on.
 */
export function checkInterimHead(raw: readonly string[]): FieldList | undefined {
  if (raw.length / 2 > MAX_RESPONSE_FIELDS) return undefined
  let listed: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    if (!TOKEN.test(raw[i]!) || !FIELD_VALUE.test(raw[i + 1]!)) return undefined
    if (raw[i]!.toLowerCase() === 'connection') listed = connectionListed(raw[i + 1]!, listed)
  }
  return endToEnd(raw, listed)
}

/** Trailer fields that may be relayed (RFC 9110 §6.5.1: framing and routing fields never are). */
export function checkTrailers(raw: readonly string[]): FieldList {
  const out: FieldList = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (!TOKEN.test(name) || !FIELD_VALUE.test(raw[i + 1]!)) continue
    if (HOP_BY_HOP.has(name) || name === 'content-length' || name === 'host' || name === 'trailer') continue
    out.push(name, raw[i + 1]!)
  }
  return out
}

function endToEnd(raw: readonly string[], listed: Set<string> | undefined): FieldList {
  const out: FieldList = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue
    out.push(name, raw[i + 1]!)
  }
  return out
}
