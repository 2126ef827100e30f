/**
 * The named rules of the differential cases (see `Rule` in differential.ts): each either forgives
 * variance that is the origin's own, or states what the consumer contract says the tunnel changes.
 * The contract ones follow the README's consumer contract (Host, redirects and cookies).
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import { sortKeys, viewOf, type BodyView, type Canonical, type DiffContext, type Rule } from './differential.ts'

function jsonOf(body: BodyView): unknown {
  if (!('text' in body)) return body
  try {
    return JSON.parse(body.text)
  } catch {
    return body
  }
}

const withJson = (c: Canonical, f: (j: Record<string, unknown>) => unknown): Canonical => {
  if (!('json' in c.body) || typeof c.body.json !== 'object' || c.body.json === null) return c
  return { ...c, body: { json: f(structuredClone(c.body.json) as Record<string, unknown>) } }
}

/** The body is JSON: compare parsed values, not bytes (a changed echo also changes the length). */
export const json: Rule = {
  name: 'JSON body',
  canon: (c) => ({ ...c, body: { json: jsonOf(c.body) } }),
}

/** Decode the body by its Content-Encoding (gzip, deflate, br) before comparing: the origin compressed what it echoed. */
export const decoded: Rule = {
  name: 'decoded by Content-Encoding',
  canon: (c) => {
    const coding = c.headers['content-encoding']?.join(',').trim().toLowerCase()
    const decode = coding === 'gzip' ? gunzipSync : coding === 'deflate' ? inflateSync : coding === 'br' ? brotliDecompressSync : undefined
    if (decode === undefined || c.raw.length === 0) return c
    try {
      const raw = decode(c.raw)
      return { ...c, raw, body: viewOf(raw) }
    } catch (err) {
      return { ...c, body: { text: `<${coding} body that does not decode: ${(err as Error).message}>` } }
    }
  },
}

/**
 * httpbin's request echo (`/get`, `/anything`, …): the app sees what a direct client sent, plus
 * `X-Forwarded-Host` = the public host (httpbin hides X-Forwarded-For/-Proto and X-Request-Id
 * unless `show_env`). `Host` and the `url` built from it stay the origin's own: the agent's
 * default `--host-header rewrite`. Repeated request fields reach httpbin either as
 * lines it joins with "," or already joined by a proxy with ", " (RFC 9110 §5.3): compared as ", ".
 */
export const httpbinEcho: Rule = {
  name: 'httpbin echo: + X-Forwarded-Host',
  canon: (c) =>
    withJson(json.canon!(c), (j) => {
      if (typeof j.headers !== 'object' || j.headers === null) return j
      const headers = j.headers as Record<string, unknown>
      for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') headers[k] = v.replace(/\s*,\s*/g, ', ')
      return j
    }),
  expect: (c, ctx) =>
    withJson(c, (j) => {
      if (typeof j.headers === 'object' && j.headers !== null) {
        j.headers = sortKeys({ ...(j.headers as Record<string, unknown>), 'X-Forwarded-Host': ctx.publicHost })
      }
      return j
    }),
}

/** httpbin `/stream/<n>`: one echo per line. */
export const httpbinEchoLines: Rule = {
  name: 'httpbin echo per line: + X-Forwarded-Host',
  canon: (c) => ('text' in c.body ? { ...c, body: { json: c.body.text.split('\n').filter(Boolean).map((l) => jsonOf({ text: l })) } } : c),
  expect: (c, ctx) =>
    'json' in c.body && Array.isArray(c.body.json)
      ? {
          ...c,
          body: {
            json: c.body.json.map((line) => (httpbinEcho.expect!({ ...c, body: { json: line } }, ctx).body as { json: unknown }).json),
          },
        }
      : c,
}

/** `/uuid`: a fresh v4 UUID each time; compare the shape. */
export const uuidShape: Rule = {
  name: 'uuid: shape only',
  canon: (c) => {
    const j = jsonOf(c.body) as { uuid?: unknown }
    if (typeof j?.uuid !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(j.uuid)) return c
    return { ...c, body: { json: { uuid: '<uuid v4>' } } }
  },
}

/** httpbin `/cache` without validators: a fresh ETag (32 hex) and Last-Modified (now) each time. */
export const cacheValidators: Rule = {
  name: 'ETag, Last-Modified: shape only',
  canon: (c) => {
    const headers = { ...c.headers }
    if (headers.etag?.length === 1 && /^[0-9a-f]{32}$/.test(headers.etag[0]!)) headers.etag = ['<32 hex>']
    if (headers['last-modified']?.length === 1 && !Number.isNaN(Date.parse(headers['last-modified'][0]!))) headers['last-modified'] = ['<http-date>']
    return { ...c, headers }
  },
}

/** The WebSocket accept key answers a random request key (RFC 6455 §4.2.2): present, value not compared. */
export const websocketAccept: Rule = {
  name: 'Sec-WebSocket-Accept: present',
  canon: (c) => (c.headers['sec-websocket-accept'] === undefined ? c : { ...c, headers: { ...c.headers, 'sec-websocket-accept': ['<present>'] } }),
}

const ABSOLUTE = /^(?:([a-z][a-z0-9+.-]*):)?\/\/([^/?#]*)(.*)$/i

/**
 * What the contract makes of a Location under path routing: a path-absolute reference gets the
 * prefix; an absolute (or scheme-relative) URL naming the origin's host or the gateway's public
 * host becomes the public origin + prefix + path; anything else (relative, foreign) stays.
 */
export function expectedLocation(value: string, ctx: DiffContext): string {
  if (ctx.routing !== 'path') return value
  if (value.startsWith('/') && !value.startsWith('//')) return ctx.prefix + value
  const m = ABSOLUTE.exec(value)
  if (m === null) return value
  const authority = m[2]!.toLowerCase()
  if (authority !== ctx.originHost && authority !== ctx.publicHost.toLowerCase()) return value
  return `http://${ctx.publicHost}${ctx.prefix}${m[3] === '' ? '/' : m[3]}`
}

/** Location under path routing, rewritten into `/t/<tunnel>/`. */
export const location: Rule = {
  name: 'Location into the prefix',
  expect: (c, ctx) => (c.headers.location === undefined ? c : { ...c, headers: { ...c.headers, location: c.headers.location.map((v) => expectedLocation(v, ctx)) } }),
}

/**
 * Host routing: an absolute Location naming the origin's own host:port (which the service sees as
 * Host, as the agent rewrites it) names the public host instead; without that such a redirect
 * would lead the browser to 127.0.0.1.
 */
export const locationOnHostRouting: Rule = {
  name: 'absolute Location to the origin becomes the public host (host routing)',
  expect: (c, ctx) => {
    if (c.headers.location === undefined) return c
    const map = (v: string) => {
      const m = ABSOLUTE.exec(v)
      return m !== null && m[2]!.toLowerCase() === ctx.originHost ? `http://${ctx.publicHost}${m[3] === '' ? '/' : m[3]}` : v
    }
    return { ...c, headers: { ...c.headers, location: c.headers.location.map(map) } }
  },
}

/** `Path=/x` in a Set-Cookie under path routing becomes `Path=/t/<tunnel>/x` (`Path=/` → `/t/<tunnel>/`); no Path stays. */
export function expectedSetCookie(value: string, ctx: DiffContext): string {
  if (ctx.routing !== 'path') return value
  return value.replace(/(;\s*path\s*=\s*)([^;]*)/i, (_all, lead: string, path: string) => `${lead}${path === '/' ? `${ctx.prefix}/` : `${ctx.prefix}${path}`}`)
}

/** Set-Cookie Path rewritten into the prefix. */
export const setCookiePath: Rule = {
  name: 'Set-Cookie Path into the prefix',
  expect: (c, ctx) =>
    c.headers['set-cookie'] === undefined ? c : { ...c, headers: { ...c.headers, 'set-cookie': c.headers['set-cookie'].map((v) => expectedSetCookie(v, ctx)) } },
}

/**
 * The edge origin's `/echo-head`: the request as the service received it. Field names compared
 * case-insensitively, fields of one name joined in order (RFC 9110 §5.2, §5.3: a proxy may combine
 * them and reorder different names). Expected through the tunnel: what a direct client sent, plus
 * X-Forwarded-For/-Proto/-Host; the gateway may add X-Request-Id.
 */
export const edgeEcho: Rule = {
  name: 'request echo: + X-Forwarded-*',
  canon: (c) =>
    withJson({ ...c, body: { json: jsonOf(c.body) } }, (j) => {
      const raw = Array.isArray(j.rawHeaders) ? (j.rawHeaders as string[]) : []
      const fields: Record<string, string> = {}
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase()
        if (name === 'x-request-id') continue
        fields[name] = fields[name] === undefined ? raw[i + 1]! : `${fields[name]}${name === 'cookie' ? '; ' : ', '}${raw[i + 1]}`
      }
      return { ...j, rawHeaders: undefined, fields: sortKeys(fields) }
    }),
  expect: (c, ctx) =>
    withJson(c, (j) => ({
      ...j,
      fields: sortKeys({ ...(j.fields as Record<string, string>), 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': ctx.publicHost }),
    })),
}
