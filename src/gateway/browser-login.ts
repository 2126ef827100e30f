import { burrowCookieName } from './burrow-cookie.ts'
import { isTokenSyntax } from './consumer-credentials.ts'
import { loginQuery } from './login-query.ts'

/**
 * The answer to a browser login link (`GET /t/alice/page?burrow_token=<token>`) once the gateway
 * has verified the token for the tunnel: a redirect to the same URL without `burrow_token`, and a
 * cookie that authenticates the browser's next requests to that tunnel.
 *
 * Status 302 (RFC 9110 §15.4.3). Logins are GET or HEAD (consumer-credentials.ts refuses the
 * rest), and for those every client repeats the method on a 302, so 303's "switch to GET"
 * (§15.4.4) and 307's "repeat the method" (§15.4.8) would change nothing. 301 and 308 are
 * cacheable by default: a browser would later skip the gateway, and its Set-Cookie, for the same
 * link. The response also says `Cache-Control: no-store` (it sets a credential, and its URL holds
 * one) and `Referrer-Policy: no-referrer`.
 *
 * `Location` is a path-absolute reference (RFC 9110 §10.2.2 allows relative ones), so it needs no
 * trust in the Host header. A URL fragment is not sent to servers; browsers carry it over to the
 * redirect target themselves (§10.2.2).
 */

/** Where the login happened: the tunnel's path prefix under path routing, or its own host. */
export type LoginScope = { readonly routing: 'path'; readonly prefix: string } | { readonly routing: 'host' }

/** The login request as received (the token itself is passed separately, once verified). */
export interface LoginRequest {
  /** The request path as sent, percent-encoding untouched (`URL.pathname`), e.g. `/t/alice/docs`. */
  readonly path: string
  /** The query as sent (`URL.search`), with the `burrow_token` parameter still in it. */
  readonly search: string
  /** The consumer came over https: the cookie gets `Secure` (and, under host routing, the `__Host-` name). */
  readonly secure: boolean
  /** Path routing: `prefix` is tunnelPrefix(mount, tunnel), e.g. `/t/alice/`. */
  readonly scope: LoginScope
}

/** browserLogin()'s answer: the redirect to send, or why there is none (answer 401 with `reason`). */
export type BrowserLogin =
  | {
      readonly ok: true
      readonly status: 302
      /** Path-absolute: `/t/alice/docs?a=1`. */
      readonly location: string
      /** The `Set-Cookie` field value. */
      readonly setCookie: string
      /** All response headers to send, `location` and `set-cookie` included. */
      readonly headers: Readonly<Record<string, string>>
    }
  | { readonly ok: false; readonly code: 'unauthorized'; readonly reason: string }

// Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.6.1); a longer Max-Age is clamped anyway.
const MAX_AGE_CAP_S = 400 * 24 * 3600

/**
 * Build the login redirect for a verified `token`. `expiresAt` is the token's `exp` (seconds since
 * the epoch; undefined when it has none, which gives a session cookie); `nowMs` is the clock in ms.
 * `Max-Age` is the token's remaining lifetime in whole seconds, so the cookie goes when the token does.
 * Returns `{ok: false}` for a token already past its expiry (the verifier allows some clock skew)
 * or one that is not a well-formed token. Throws TypeError only for a `prefix` that is not a path
 * starting and ending with `/` (a bug in the caller).
 */
export function browserLogin(req: LoginRequest, token: string, expiresAt: number | undefined, nowMs: number): BrowserLogin {
  if (!isTokenSyntax(token)) return { ok: false, code: 'unauthorized', reason: 'burrow_token is not a well-formed token' }
  let maxAge: number | undefined
  if (expiresAt !== undefined) {
    maxAge = Math.floor(expiresAt) - Math.floor(nowMs / 1000)
    if (!(maxAge > 0)) return { ok: false, code: 'unauthorized', reason: 'token expired' }
    maxAge = Math.min(maxAge, MAX_AGE_CAP_S)
  }
  const scope = req.scope
  if (scope.routing === 'path' && !/^\/(?:[^;\x00-\x20\x7f]*\/)?$/.test(scope.prefix)) {
    throw new TypeError(`tunnel prefix must start and end with "/" and hold no spaces, controls or ";": ${JSON.stringify(scope.prefix)}`)
  }
  const cookiePath = scope.routing === 'path' ? scope.prefix : '/'
  const q = loginQuery(req.search)
  const location = redirectPath(req.path, scope) + (q.present ? q.rest : withQuestionMark(req.search))
  let setCookie = `${burrowCookieName({ routing: scope.routing, secure: req.secure })}=${token}; Path=${cookiePath}`
  if (maxAge !== undefined) setCookie += `; Max-Age=${maxAge}`
  setCookie += '; HttpOnly; SameSite=Lax'
  if (req.secure) setCookie += '; Secure'
  return {
    ok: true,
    status: 302,
    location,
    setCookie,
    headers: { location, 'set-cookie': setCookie, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
  }
}

// The path the browser is sent back to.
// Path routing: the prefix in its canonical spelling, then the rest of the request path after the
// prefix's segments. `/t/%61lice/x` becomes `/t/alice/x` and `/t/alice` becomes `/t/alice/`: the
// cookie's Path is matched byte for byte (RFC 6265 §5.1.4), so a redirect to another spelling of
// the tunnel would arrive without the cookie. The local service sees the same path either way.
// Host routing: the path as it came. A path starting with `//` (or `/\`) would be read as
// scheme-relative, another host; `/.` in front keeps it a path, and resolving the reference
// removes the dot segment again (RFC 3986 §5.2.4, WHATWG URL).
function redirectPath(path: string, scope: LoginScope): string {
  if (scope.routing === 'host') {
    if (path === '') return '/'
    return /^\/[/\\]/.test(path) ? '/.' + path : path
  }
  const segments = scope.prefix.split('/').length - 2
  let at = 0
  for (let i = 0; i < segments && at >= 0; i++) at = path.indexOf('/', at + 1)
  const tail = at < 0 ? '' : path.slice(at + 1)
  return scope.prefix + tail
}

function withQuestionMark(search: string): string {
  return search === '' || search === '?' ? '' : search.startsWith('?') ? search : '?' + search
}
