import { burrowCookieName, readCookie, withoutBurrowCookies, type Routing } from './burrow-cookie.ts'
import type { ErrorCode } from './errors.ts'
import { loginQuery } from './login-query.ts'

/**
 * Which credential a consumer request carries for its tunnel, and what must be taken out of its
 * headers before it is forwarded. Pure: no verification happens here (the caller verifies the
 * token and checks that it grants the tunnel); malformed input is a `refused` value, never a throw.
 *
 * Where the Burrow token may be, in order of precedence:
 * 1. `?burrow_token=` on a GET or HEAD: a browser login; the gateway verifies it, sets the cookie
 *    and redirects to the URL without it (browser-login.ts). Never forwarded.
 * 2. `Burrow-Token: <token>`: `Authorization` is then the app's and is forwarded untouched.
 * 3. The login cookie (burrow-cookie.ts): `Authorization` is then the app's too, so a browser app
 *    that sends its own `Authorization: Bearer` to its API keeps working after a cookie login.
 * 4. `Authorization: Bearer <token>`: stripped before forwarding, as before.
 * `Authorization` is also stripped when its bearer token is the very token that authenticated the
 * request by another route: the local service never receives a Burrow token.
 */

/** Where the credential to verify was found. */
export type CredentialSource = 'burrow-token' | 'bearer' | 'cookie' | 'query-login'

/** A change to the forwarded request's headers. Names are lower case. */
export type HeaderEdit = { readonly op: 'delete'; readonly name: string } | { readonly op: 'set'; readonly name: string; readonly value: string }

/** What consumerCredential() looks at: the request as received, and two facts about its tunnel. */
export interface ConsumerRequest {
  /** The request method as sent (`GET`, `OPTIONS`, …). */
  readonly method: string
  readonly headers: Headers
  /** The URL's query as the runtime gives it (`URL.search`): `''` or `?a=1&burrow_token=…`. */
  readonly search: string
  /** The tunnel the request is routed to (used in messages). */
  readonly tunnel: string
  readonly routing: Routing
  /** The consumer reached the gateway over https (the login cookie's name depends on it). */
  readonly secure: boolean
  /** The tunnel was opened with `--public`: nothing is verified and `Authorization` is the app's. */
  readonly isPublic: boolean
}

/** consumerCredential()'s answer: one of five kinds, each saying what the gateway does next. */
export type CredentialDecision =
  /** Verify `token` for the tunnel (401 if invalid, 403 if another user's), then forward with `edits`. */
  | { readonly kind: 'verify'; readonly source: 'burrow-token' | 'bearer' | 'cookie'; readonly token: string; readonly edits: readonly HeaderEdit[] }
  /** Verify `token` for the tunnel, then answer with browserLogin()'s redirect. Nothing is forwarded. */
  | { readonly kind: 'query-login'; readonly source: 'query-login'; readonly token: string }
  /** A CORS preflight: forward without a token, so the local service's own CORS policy answers. */
  | { readonly kind: 'cors-preflight'; readonly edits: readonly HeaderEdit[] }
  /** A public tunnel: forward with `edits`, verify nothing. */
  | { readonly kind: 'none'; readonly edits: readonly HeaderEdit[] }
  /** Answer `code` (401 `unauthorized` or 400 `bad_request`) with `reason`; nothing is forwarded. */
  | { readonly kind: 'refused'; readonly code: Extract<ErrorCode, 'unauthorized' | 'bad_request'>; readonly reason: string }

// RFC 6750 §2.1 b64token: what a bearer token may be made of. JWTs (base64url and dots) fit. It
// also keeps the token safe to put in a cookie value and a log-free error message.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
// RFC 9110 §5.6.2 token: what a method in Access-Control-Request-Method may be.
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// `Bearer` and its token, separated by at least one space or tab (RFC 9110 §11.4, RFC 6750 §2.1).
// The scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^Bearer(?:[ \t]+(.*))?$/i

/** Whether `s` has the syntax of a bearer token (RFC 6750 §2.1 b64token). */
export function isTokenSyntax(s: string): boolean {
  return TOKEN.test(s)
}

/**
 * Decide what authenticates `req` and what to strip from it. See the module comment for the
 * precedence; the decision kinds are documented on CredentialDecision. Pure; never throws.
 * Example: `consumerCredential({method: 'GET', headers, search: '', tunnel: 'alice', routing: 'path', secure: true, isPublic: false})`.
 */
export function consumerCredential(req: ConsumerRequest): CredentialDecision {
  const login = loginQuery(req.search)
  if (login.present) {
    // A login link is a navigation, so GET (or HEAD). Anything else with a token in its URL is
    // refused rather than forwarded (the token would reach the service) or redirected (a 303
    // would drop the body, a 307 would have the browser send it again to a URL we made up).
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return refused('bad_request', `burrow_token in the query only logs a browser in on GET or HEAD; send the token in a Burrow-Token header instead`)
    }
    const first = login.values[0]!
    if (login.values.some((v) => v !== first)) return refused('bad_request', 'burrow_token appears more than once with different values')
    if (first === '') return refused('unauthorized', 'burrow_token is empty')
    if (!TOKEN.test(first)) return refused('unauthorized', 'burrow_token is not a well-formed token')
    return { kind: 'query-login', source: 'query-login', token: first }
  }

  const headers = req.headers
  const burrowToken = headers.get('burrow-token')
  const authorization = headers.get('authorization')
  const cookie = headers.get('cookie')
  // Stripped whatever happens next: neither our header nor our cookie ever reaches the service.
  const edits: HeaderEdit[] = []
  if (burrowToken !== null) edits.push({ op: 'delete', name: 'burrow-token' })
  if (cookie !== null) {
    const rest = withoutBurrowCookies(cookie)
    if (rest === undefined) edits.push({ op: 'delete', name: 'cookie' })
    else if (rest !== cookie) edits.push({ op: 'set', name: 'cookie', value: rest })
  }

  if (isCorsPreflight(req.method, headers, burrowToken, authorization, cookie)) return { kind: 'cors-preflight', edits }
  if (req.isPublic) return { kind: 'none', edits }

  if (burrowToken !== null) {
    // Headers joins repeated fields with ", ", which no token contains.
    if (burrowToken.includes(',')) return refused('bad_request', 'Burrow-Token was sent more than once')
    if (burrowToken === '') return refused('unauthorized', 'Burrow-Token is empty')
    if (/^Bearer[ \t]/i.test(burrowToken)) return refused('unauthorized', 'Burrow-Token takes the bare token, without "Bearer "')
    if (!TOKEN.test(burrowToken)) return refused('unauthorized', 'Burrow-Token is not a well-formed token')
    return verify('burrow-token', burrowToken, edits, authorization)
  }

  // A malformed cookie is passed over (it is stripped all the same): a bearer token may follow.
  const fromCookie = readCookie(cookie, burrowCookieName(req)).find((v) => TOKEN.test(v))
  if (fromCookie !== undefined) return verify('cookie', fromCookie, edits, authorization)

  if (authorization !== null) {
    const bearer = BEARER.exec(authorization)
    if (bearer === null) {
      const scheme = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(authorization)?.[0]
      return refused(
        'unauthorized',
        `Authorization carries ${scheme === undefined ? 'no' : `a ${scheme.slice(0, 20)}`} credential, not a bearer token; ` +
          `to pass it to the service, send the tunnel's token in Burrow-Token`,
      )
    }
    const token = (bearer[1] ?? '').replace(/[ \t]+$/, '')
    if (token === '') return refused('unauthorized', 'the bearer token is empty')
    if (!TOKEN.test(token)) return refused('unauthorized', 'the bearer token is not well-formed (one token after "Bearer ", sent once)')
    return { kind: 'verify', source: 'bearer', token, edits: [...edits, { op: 'delete', name: 'authorization' }] }
  }

  if (readCookie(cookie, burrowCookieName(req)).length > 0) {
    return refused('unauthorized', `the login cookie is malformed; open the link with ?burrow_token= again`)
  }
  return refused('unauthorized', `a token for ${req.tunnel} is required (Authorization: Bearer, Burrow-Token, or ?burrow_token= in a browser)`)
}

/** A copy of `headers` with `edits` applied in order. */
export function applyHeaderEdits(headers: Headers, edits: readonly HeaderEdit[]): Headers {
  const out = new Headers(headers)
  for (const e of edits) {
    if (e.op === 'delete') out.delete(e.name)
    else out.set(e.name, e.value)
  }
  return out
}

function verify(source: 'burrow-token' | 'cookie', token: string, edits: HeaderEdit[], authorization: string | null): CredentialDecision {
  // Authorization is the app's here, unless it repeats the very token that authenticates us.
  const bearer = authorization === null ? undefined : BEARER.exec(authorization)?.[1]?.replace(/[ \t]+$/, '')
  const out = bearer === token ? [...edits, { op: 'delete' as const, name: 'authorization' }] : edits
  return { kind: 'verify', source, token, edits: out }
}

// A CORS-preflight request (Fetch standard, "CORS-preflight fetch"): OPTIONS with Origin and
// Access-Control-Request-Method. Browsers send it without credentials and without a body, so one
// that carries either is not a preflight and goes through the ordinary checks: the token-free
// path reaches the service's OPTIONS handling with nothing a browser would not send.
function isCorsPreflight(method: string, headers: Headers, burrowToken: string | null, authorization: string | null, cookie: string | null): boolean {
  if (method !== 'OPTIONS') return false
  const origin = headers.get('origin')
  const requested = headers.get('access-control-request-method')
  if (origin === null || origin === '' || requested === null || !METHOD_TOKEN.test(requested)) return false
  if (burrowToken !== null || authorization !== null || cookie !== null) return false
  const length = headers.get('content-length')
  return headers.get('transfer-encoding') === null && (length === null || length === '0')
}

function refused(code: 'unauthorized' | 'bad_request', reason: string): CredentialDecision {
  return { kind: 'refused', code, reason }
}
