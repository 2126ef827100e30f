import type { Context, MiddlewareHandler } from 'hono'
import { HOST_VALUE } from '../wire/index.ts'
import type { GatewayServices } from './services.ts'
import { errorResponse, type ErrorCode } from './errors.ts'

/**
 * Checks every request before any route sees it. Each runtime's HTTP parser refuses much already
 * (obs-fold, CR/LF/NUL in values, Content-Length with Transfer-Encoding), but not the same things:
 * Deno takes 64 KiB of headers and a Host header that is spliced into the URL, Bun and Deno join
 * duplicate Content-Length fields into "4, 4", Bun hands Hono a relative URL for a malformed Host,
 * Deno routes on the raw target with its dot segments. These checks make the gateway refuse the
 * same requests on all three (README: Security model); the runtime's own limits still apply first.
 */

/** Distinct header fields a request may carry (Apache's LimitRequestFields). */
export const MAX_HEADER_FIELDS = 100
/** Bytes of all header names and values (Node's and Bun's default head limit is 16 KiB). */
export const MAX_HEADER_BYTES = 16 * 1024
/** Bytes of the path and query (nginx's per-line default is 8 KiB). */
export const MAX_TARGET_BYTES = 8 * 1024

export interface GuardInput {
  readonly method: string
  /** The request URL as the runtime built it. */
  readonly url: string
  readonly headers: Headers
  /**
   * The request target exactly as the client sent it, where the runtime's URL has already resolved
   * its dot segments (Node); undefined where the URL keeps them (Deno) or nothing else is left (Bun).
   */
  readonly rawTarget?: string | undefined
}

export interface Refusal {
  readonly code: ErrorCode
  readonly message: string
}

// RFC 9110 §9.1 lets a method be any token, and Deno takes any ("get", "G%00ET", "PUV"), but the
// servers behind a tunnel are stricter: Node's parser (llhttp) knows a fixed list and refuses the
// rest as malformed. The gateway forwards that list, the registered methods, as Bun and Node do.
const METHODS = new Set(
  ('DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH SEARCH UNLOCK BIND REBIND ' +
    'UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE QUERY').split(' '),
)
// A dot segment, literal or percent-encoded (WHATWG URL treats %2e as a dot), or a backslash,
// which URL parsers turn into a slash: either makes the raw target and its normalized form differ.
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i
// A field value is visible characters, spaces and tabs, and obs-text (RFC 9110 §5.5). CR, LF and
// NUL end or corrupt a header line; Bun let DEL (0x7f) through, which Node's parser behind the
// tunnel then refused. Runtimes decode header bytes as latin1, so a char above U+00FF cannot come
// from the wire; if one ever did, writing it as latin1 would keep only its low byte (U+010D, a CR).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/
const DIGITS = /^\d{1,15}$/

/** The first reason to refuse `req`, or undefined when it may go on. Pure; see the tests' tables. */
export function checkRequest(req: GuardInput): Refusal | undefined {
  if (!METHODS.has(req.method)) return bad(`unknown method ${JSON.stringify(req.method.slice(0, 32))} (registered methods only, e.g. GET, PROPFIND)`)
  if (req.method === 'CONNECT') return bad('CONNECT is not supported: the gateway is not a forward proxy')

  // HTTP/1.1 runtimes refuse a request without Host themselves; without one (HTTP/1.0, HTTP/2's
  // :authority, `app.request()` in an embedding host) the URL's authority is the only one there is.
  const host = req.headers.get('host')
  // The pattern alone lets through what URL parsers refuse (`127.0.027.0.027…` reads as a broken
  // IPv4 address), and a URL is built from Host later (the upstream WebSocket's).
  const hostAsUrl = host === null ? undefined : normalizedHost(host)
  if (host !== null && (!HOST_VALUE.test(host) || hostAsUrl === undefined)) return bad('the Host header must be one host name or address, with an optional port')

  const schemeEnd = req.url.indexOf('://') + 3
  const pathStart = req.url.indexOf('/', schemeEnd)
  // Only the scheme and authority can make a URL invalid (WHATWG URL parsing never fails on a
  // path, query or fragment), so the part before the path is all that needs parsing.
  const url = originOf(pathStart < 0 ? req.url : req.url.slice(0, pathStart))
  if (url === undefined) return bad('the request target is not a valid URL')
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad('the request target is not an http URL')
  // RFC 9112 §3.2.2: with an absolute-form target the authority is the target's, not Host's.
  // Routing uses Host; refusing a disagreement means no two parties can route one request apart.
  if (hostAsUrl !== undefined && url.host !== hostAsUrl) {
    return bad('the request target names another host than the Host header')
  }

  const target = originForm(req.rawTarget) ?? (pathStart < 0 ? '/' : req.url.slice(pathStart))
  if (target.length > MAX_TARGET_BYTES) return { code: 'uri_too_long', message: `the request target is longer than ${MAX_TARGET_BYTES} bytes` }
  const query = target.indexOf('?')
  const rawPath = query < 0 ? target : target.slice(0, query)
  if (DOT_SEGMENT.test(rawPath) || rawPath.includes('\\')) return bad('the path has dot segments or backslashes')

  let fields = 0
  let bytes = 0
  let control = false
  req.headers.forEach((value, name) => {
    fields++
    bytes += name.length + value.length + 4
    if (CONTROL.test(value)) control = true
  })
  if (fields > MAX_HEADER_FIELDS) return { code: 'headers_too_large', message: `more than ${MAX_HEADER_FIELDS} header fields` }
  if (bytes > MAX_HEADER_BYTES) return { code: 'headers_too_large', message: `header fields larger than ${MAX_HEADER_BYTES} bytes` }
  // Headers cannot normally hold these; if a runtime ever lets one through, it must not reach the wire.
  if (control) return bad('a header value holds a control character (CR, LF, NUL, DEL…) or one above U+00FF')

  // RFC 9112 §6.3: message framing must be unambiguous, or a party downstream may frame it apart.
  const length = req.headers.get('content-length')
  const coding = req.headers.get('transfer-encoding')
  if (length !== null && !DIGITS.test(length)) return bad('Content-Length must be one decimal number')
  if (coding !== null && length !== null) return bad('Content-Length and Transfer-Encoding together')
  if (coding !== null && coding.toLowerCase() !== 'chunked') return bad('the only Transfer-Encoding accepted is chunked')
  return undefined
}

/** The path and query of a raw target (origin-form as it is; absolute-form without its authority). */
function originForm(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.startsWith('/')) return raw
  const authority = raw.indexOf('://')
  const path = authority < 0 ? -1 : raw.indexOf('/', authority + 3)
  return path < 0 ? '/' : raw.slice(path)
}

function bad(message: string): Refusal {
  return { code: 'bad_request', message: `Cannot accept the request: ${message}` }
}

/**
 * Remember the answers of a parse that requests repeat (a gateway's consumers name the same few
 * hosts and origins), so a request costs map lookups, not URL objects. Bounded, and only short
 * keys, so a flood of distinct hosts costs what it did before, a miss each, and no memory.
 */
function remembered<T>(parse: (key: string) => T): (key: string) => T {
  const MAX_ENTRIES = 1024
  const MAX_KEY = 300
  const answers = new Map<string, T>()
  return (key) => {
    if (key.length > MAX_KEY) return parse(key)
    const known = answers.get(key)
    if (known !== undefined || answers.has(key)) return known as T
    const answer = parse(key)
    if (answers.size >= MAX_ENTRIES) answers.clear()
    answers.set(key, answer)
    return answer
  }
}

/** Host as a URL spells it (lower case, default port dropped, brackets kept), or undefined if no URL takes it. */
const normalizedHost = remembered((host: string): string | undefined => {
  try {
    return new URL(`http://${host}`).host
  } catch {
    return undefined
  }
})

/** Scheme and host of a URL's origin part (`http://h:1`), or undefined if no URL takes it. */
const originOf = remembered((origin: string): { protocol: string; host: string } | undefined => {
  try {
    const url = new URL(origin)
    return { protocol: url.protocol, host: url.host }
  } catch {
    return undefined
  }
})

/** The guard as the gateway's first middleware. A refusal closes the connection: its framing is in doubt. */
export function requestGuard(svc: GatewayServices): MiddlewareHandler {
  const rawTargetOf = svc.runtime.rawTarget ?? noRawTarget
  return async (c, next) => {
    const raw = c.req.raw
    const refusal = checkRequest({ method: raw.method, url: raw.url, headers: raw.headers, rawTarget: rawTargetOf(c) })
    if (refusal === undefined) return next()
    // Debug, not info: a flood of malformed requests must not become a flood of log lines.
    svc.log.debug('request_refused', { code: refusal.code, reason: refusal.message })
    return errorResponse(refusal.code, refusal.message, { connection: 'close' })
  }
}

const noRawTarget = (): undefined => undefined
