/**
 * The browser login cookie: its name, reading it from a `Cookie` header, and taking it out of
 * that header before the request is forwarded (the local service never sees our token).
 *
 * Two names, chosen by routing and scheme:
 * - `__Host-burrow_token` for host routing over https. The `__Host-` prefix (RFC 6265bis §4.1.3.2)
 *   makes browsers refuse the cookie unless it is Secure, has `Path=/` and no Domain, so a sibling
 *   tunnel (`bob.<base domain>`) cannot plant one with `Domain=<base domain>` next to ours.
 * - `__burrow_token` everywhere else. Path routing needs `Path=/t/<tunnel>/`, and plain http
 *   cannot set Secure; both rule the `__Host-` prefix out. The leading underscores and the
 *   product's name keep it clear of the cookies apps choose.
 * Both names are always stripped before forwarding; only the scope's own name is read.
 */

/** The cookie name under path routing, and under host routing over plain http. */
export const BURROW_COOKIE = '__burrow_token'
/** The cookie name under host routing over https (`__Host-` prefix: Secure, `Path=/`, no Domain). */
export const BURROW_HOST_COOKIE = '__Host-burrow_token'

/** How a request reached its tunnel: `/t/<tunnel>/…` (path) or `<tunnel>.<base domain>` (host). */
export type Routing = 'path' | 'host'

/** How the consumer reached the tunnel: routing kind, and whether over https. */
export interface CookieScope {
  readonly routing: Routing
  readonly secure: boolean
}

/** The cookie name for `scope`: `__Host-burrow_token` for host routing over https, else `__burrow_token`. */
export function burrowCookieName(scope: CookieScope): string {
  return scope.routing === 'host' && scope.secure ? BURROW_HOST_COOKIE : BURROW_COOKIE
}

// One `name=value` pair of a Cookie header, split the way RFC 6265 §5.2 splits a Set-Cookie pair:
// the name is what precedes the first `=`, trimmed of spaces and tabs. A pair without `=` has no
// name here (RFC 6265bis reads it as a nameless cookie), so it is never ours.
function pairName(raw: string): string | undefined {
  const eq = raw.indexOf('=')
  return eq < 0 ? undefined : raw.slice(0, eq).replace(/^[ \t]+|[ \t]+$/g, '')
}

function pairValue(raw: string): string {
  let v = raw.slice(raw.indexOf('=') + 1).replace(/^[ \t]+|[ \t]+$/g, '')
  // RFC 6265 §4.1.1 allows a DQUOTE-wrapped cookie-value; the quotes are not part of the token.
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
  return v
}

/**
 * The values of cookie `name` in a `Cookie` header value, in the order sent (browsers send the
 * longest Path first, then the oldest). Empty when the header is absent or has no such cookie.
 * Runtimes join repeated Cookie fields with `; ` (measured on Bun, Deno and Node), so one split covers them.
 */
export function readCookie(header: string | null | undefined, name: string): string[] {
  if (!header) return []
  const out: string[] = []
  for (const raw of header.split(';')) if (pairName(raw) === name) out.push(pairValue(raw))
  return out
}

/**
 * `header` with every Burrow login cookie (both names) removed, every other pair kept byte for
 * byte. Returns `header` itself (same string) when it holds none, and `undefined` when nothing
 * but ours was in it (the caller then drops the field).
 */
export function withoutBurrowCookies(header: string): string | undefined {
  const parts = header.split(';')
  const kept: string[] = []
  let removed = false
  let firstRemoved = false
  for (let i = 0; i < parts.length; i++) {
    const raw = parts[i]!
    const name = pairName(raw)
    if (name === BURROW_COOKIE || name === BURROW_HOST_COOKIE) {
      removed = true
      if (kept.length === 0) firstRemoved = true
    } else kept.push(raw)
  }
  if (!removed) return header
  // The space after `;` belongs to the separator (RFC 6265 §4.2.1: `; ` between pairs): when the
  // first pair went, the new first pair must not start with it.
  if (firstRemoved && kept.length > 0) kept[0] = kept[0]!.replace(/^[ \t]+/, '')
  const out = kept.join(';')
  return /^[ \t;]*$/.test(out) ? undefined : out
}

/**
 * Whether a `Set-Cookie` value from a local service would set one of Burrow's login cookies.
 * The proxy drops such fields: a service must not plant a login cookie for its consumers (under
 * host routing over http, `Domain=<base domain>` would reach every sibling tunnel).
 */
export function setsBurrowCookie(setCookie: string): boolean {
  const semi = setCookie.indexOf(';')
  const name = pairName(semi < 0 ? setCookie : setCookie.slice(0, semi))
  return name === BURROW_COOKIE || name === BURROW_HOST_COOKIE
}
