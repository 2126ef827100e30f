import { hasDotSegment, removeDotSegments } from './dot-segments.ts'

/**
 * Response header rewriting under path routing, as reverse proxies do it (nginx `proxy_redirect
 * default` and `proxy_cookie_path`, Apache `ProxyPassReverse` and `ProxyPassReverseCookiePath`):
 * the local service thinks it lives at `/`, its consumers reach it at `/t/<tunnel>/`.
 *
 * Header values here are latin1 "byte strings" (one char U+0000–U+00FF per byte). Both functions
 * work on them as strings: no URL parser, no re-encoding, so every byte outside what they rewrite
 * comes out as it came in. Neither throws, whatever the input.
 *
 * A value already under the prefix is left alone, so applying a rewrite twice changes nothing,
 * and a service configured with its public base path (`/t/alice/`) keeps working.
 */

/** What rewriteLocation() needs to know about the tunnel and the two hosts that count as ours. */
export interface LocationContext {
  /** The tunnel's public path prefix, starting and ending with `/` (tunnelPrefix()); `/` under host routing. */
  readonly prefix: string
  /** Scheme and authority the consumer used, without a path: `https://gw.example.com`. */
  readonly publicOrigin: string
  /** The `Host` value the gateway sent to the local service, e.g. `localhost:3000`; undefined if none. */
  readonly upstreamHost: string | undefined
}

/**
 * Rewrite a `Location` (or `Content-Location`) value from the local service for the consumer.
 * - Path-absolute (`/landing`, `/a?b#c`): the prefix goes in front → `/t/alice/landing`.
 * - Absolute or scheme-relative, with the authority of `upstreamHost` or of `publicOrigin`
 *   (host case-insensitive, default ports equal to none): `publicOrigin` + prefix + path.
 * - Anything else (relative `landing`, `../x`, other hosts, other schemes, garbage): unchanged.
 * Dot segments (`/../x`) are resolved first, the way a browser would, so the result stays under
 * the prefix. Returns `value` itself when nothing applies. Never throws.
 * Example: `rewriteLocation('http://localhost:3000/a?b', {prefix: '/t/alice/', publicOrigin: 'https://gw', upstreamHost: 'localhost:3000'})` → `https://gw/t/alice/a?b`.
 */
export function rewriteLocation(value: string, ctx: LocationContext): string {
  const c0 = value.charAt(0)
  const c1 = value.charAt(1)
  if (c0 === '/' && c1 !== '/' && c1 !== '\\') return underPrefix(value, ctx.prefix)

  // Browsers read `\` as `/` in http(s) URLs, so `/\host` and `\\host` are scheme-relative too.
  let scheme: string | undefined
  let rest: string
  if ((c0 === '/' || c0 === '\\') && (c1 === '/' || c1 === '\\')) rest = value.slice(2)
  else {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):[/\\]{2}/.exec(value)
    if (m === null) return value
    scheme = m[1]!.toLowerCase()
    if (scheme !== 'http' && scheme !== 'https') return value
    rest = value.slice(m[0].length)
  }
  const end = rest.search(/[/\\?#]/)
  const authority = end < 0 ? rest : rest.slice(0, end)
  if (!isOurs(authority, scheme, ctx)) return value
  const tail = end < 0 ? '' : rest.slice(end)
  // `http://localhost:3000`, `…?q` and `…#f` have an empty path, which is `/` (RFC 9110 §4.2.3).
  const absolute = tail.startsWith('/') || tail.startsWith('\\') ? tail : '/' + tail
  const out = origin(ctx.publicOrigin) + underPrefix(absolute, ctx.prefix)
  return out === value ? value : out
}

/**
 * Rewrite the `Path` attribute of one `Set-Cookie` value into `prefix` (starting and ending with
 * `/`): `Path=/` → `Path=/t/alice/`, `Path=/app` → `Path=/t/alice/app`. Attribute names are
 * case-insensitive (RFC 6265 §5.2); every `Path` attribute is rewritten (the last one is the one
 * browsers use). No Path, or one that does not start with `/`, means the browser's default path,
 * which is already under the prefix: unchanged. The cookie pair and other attributes (Domain
 * included) are never touched. Returns `value` itself when nothing applies. Never throws.
 * Call it once per field (`Headers.getSetCookie()`): a joined list cannot be split safely.
 */
export function rewriteSetCookie(value: string, prefix: string): string {
  if (!/path/i.test(value)) return value
  const parts = value.split(';')
  let changed = false
  // parts[0] is the cookie's name=value pair, never an attribute (RFC 6265 §5.2 step 1).
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase() !== 'path') continue
    const raw = part.slice(eq + 1)
    const path = raw.replace(/^[ \t]+|[ \t]+$/g, '')
    if (!path.startsWith('/') || isUnder(path, prefix)) continue
    // Only the path's own characters change; the spaces around it stay where they were.
    const start = eq + 1 + raw.search(/[^ \t]/)
    parts[i] = part.slice(0, start) + prefix + path.slice(1) + part.slice(start + path.length)
    changed = true
  }
  return changed ? parts.join(';') : value
}

// A path-absolute reference (starting with `/` or `\`), its query and fragment, put under the
// prefix unless it is there already. Dot segments are resolved first: `/t/alice/` + `../../x`
// would resolve above the prefix.
// Browsers strip C0 controls and spaces from the end of a URL before parsing it, so `/..\0` is
// `/..`: they are set aside while the path is looked at, and put back after, byte for byte.
function underPrefix(ref: string, prefix: string): string {
  const end = ref.search(/[\x00-\x20]*$/)
  const body = ref.slice(0, end)
  const cut = body.search(/[?#]/)
  const path = cut < 0 ? body : body.slice(0, cut)
  const suffix = (cut < 0 ? '' : body.slice(cut)) + ref.slice(end)
  const dots = hasDotSegment(path)
  if (!dots && isUnder(path, prefix)) return ref
  const clean = dots ? removeDotSegments(path) : path
  if (isUnder(clean, prefix)) return clean + suffix
  return prefix + clean.slice(1) + suffix
}

// `/t/alice/…` and `/t/alice` itself are under `/t/alice/`.
function isUnder(path: string, prefix: string): boolean {
  return path.startsWith(prefix) || (prefix.length > 1 && path === prefix.slice(0, -1))
}

function origin(publicOrigin: string): string {
  let o = publicOrigin
  while (o.endsWith('/')) o = o.slice(0, -1)
  return o
}

// Whether `authority` (from a Location with `scheme`, undefined for scheme-relative) names the
// local service as the gateway addressed it, or the gateway itself. Userinfo (`user@host`) is
// never ours: rewriting would drop it.
function isOurs(authority: string, scheme: string | undefined, ctx: LocationContext): boolean {
  if (authority === '' || authority.includes('@')) return false
  if (ctx.upstreamHost !== undefined && sameAuthority(authority, scheme ?? 'http', ctx.upstreamHost, 'http')) return true
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(ctx.publicOrigin)
  if (m === null) return false
  const publicScheme = m[1]!.toLowerCase()
  return sameAuthority(authority, scheme ?? publicScheme, m[2]!, publicScheme)
}

function sameAuthority(a: string, aScheme: string, b: string, bScheme: string): boolean {
  const ka = authorityKey(a, aScheme)
  return ka !== undefined && ka === authorityKey(b, bScheme)
}

// `host:port` with the host in lower case and the port as a number, or `host:` for the scheme's
// default port (`localhost`, `localhost:80` and `LOCALHOST:0080` are the same for http).
function authorityKey(authority: string, scheme: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(authority)
  if (m === null || m[1] === '') return undefined
  const host = m[1]!.toLowerCase()
  const digits = m[2] ?? ''
  if (digits === '') return host + ':'
  const port = Number(digits)
  const isDefault = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443)
  return isDefault ? host + ':' : `${host}:${port}`
}
