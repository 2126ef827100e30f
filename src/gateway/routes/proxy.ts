import { Hono, type Context } from 'hono'
import { REQUEST_ID_FIELD, TUNNEL_NAME } from '../../wire/index.ts'
import { requestHeadersForUpstream } from '../../proxy/headers.ts'
import { authorizeConsumer, type ConsumerRoute } from '../consumer-access.ts'
import type { HeaderEdit } from '../consumer-credentials.ts'
import { forwardToHolder } from '../cluster-forward.ts'
import { beginObserved, serveHeld, type HeldRequest } from '../serve-held.ts'
import { mountPrefixOf } from '../tunnel-prefix.ts'
import type { GatewayServices } from '../services.ts'
import { errorResponse, type ErrorCode } from '../errors.ts'
import { retryAfterSeconds, type RateVerdict } from '../rate-limits.ts'
import { checkWebSocketUpgrade } from '../websocket-handshake.ts'
import { requestIdOf, withRequestId } from '../request-id.ts'

/**
 * Proxy one consumer request to `tunnel`'s agent. `upstreamPath` is the origin-form target the
 * local service sees (prefix stripped, query kept); `route` says how the request got here. Every
 * answer carries the request's id as X-Request-Id, Burrow's own error answers included.
 */
export function proxyToTunnel(svc: GatewayServices, c: Context, tunnel: string, upstreamPath: string, route: ConsumerRoute): Promise<Response> {
  const requestId = requestIdOf(c.req.header(REQUEST_ID_FIELD))
  // For app.onError: an exception on the way still answers (and logs) with this id.
  c.set('requestId', requestId)
  return admitAndRelay(svc, c, tunnel, upstreamPath, route, requestId)
}

async function admitAndRelay(svc: GatewayServices, c: Context, tunnel: string, upstreamPath: string, route: ConsumerRoute, requestId: string): Promise<Response> {
  // Burrow's own answers (created here, so their headers can still be set).
  const own = (res: Response) => withRequestId(res, requestId)
  if (svc.isDraining()) return own(errorResponse('draining', 'the gateway is shutting down', { connection: 'close' }))
  if (!TUNNEL_NAME.test(tunnel)) return own(errorResponse('tunnel_not_found', `no tunnel named ${JSON.stringify(tunnel.slice(0, 80))}`))
  const { verify } = svc.openedNow() ?? (await svc.opened())
  const registry = svc.registry
  const remote = svc.client(c)
  // Per client IP before the token is even looked at: a flood costs no signature checks.
  const byIp = svc.limits.consumerIp(remote.address)
  if (!byIp.ok) return own(rateLimited(byIp, 'too many requests from your address'))
  // Not held here: maybe on another instance (REDIS_URL), whose entry says whether it is public.
  const here = registry.tunnelOf(tunnel)
  const elsewhere = here.exists || svc.cluster === undefined ? undefined : await svc.cluster.directory.holders(tunnel)
  const access = await authorizeConsumer(c, {
    verify,
    tunnel,
    isPublic: here.exists ? here.isPublic : elsewhere?.some((h) => h.isPublic) === true,
    route,
    secure: remote.proto === 'https',
    pathRoutingLogin: svc.config.pathRoutingLogin,
    now: Date.now(),
  })
  if (!access.ok) return own(access.response)
  // From here the request belongs to the tunnel: the inspector shows it and the metrics time it.
  const observed = beginObserved(svc, requestId, tunnel, c.req.method, upstreamPath, remote.address)
  const record = observed.record
  // Per tunnel owner once the request is authorized, so strangers cannot spend the owner's budget
  // (except on a public tunnel, where anyone may, and the budget protects the owner's machine).
  const byUser = svc.limits.consumerUser(tunnel)
  if (!byUser.ok) return observed.refuse(rateLimited(byUser, `too many requests to tunnel ${tunnel}`), 'rate_limited')
  const wantsWebSocket = c.req.header('upgrade')?.toLowerCase() === 'websocket'
  record.websocket = wantsWebSocket
  const badHandshake = wantsWebSocket ? checkWebSocketUpgrade(c.req.method, c.req.raw.headers) : undefined
  if (badHandshake !== undefined) return observed.refuse(errorResponse('bad_request', `Cannot open a WebSocket: ${badHandshake}`), 'bad_request')
  // A tunnel whose service keeps failing is answered at once, before a slot or a channel is taken.
  const gate = svc.breakers.admit(tunnel)
  if (!gate.ok) return observed.refuse(circuitOpen(gate.message, gate.retryAfterS), 'circuit_open')

  const consumerHost = c.req.header('host')
  const edits = headerEdits(access.edits)
  const held: HeldRequest = {
    tunnel,
    path: upstreamPath,
    remote,
    peer: remote.peer,
    consumerHost,
    proto: remote.proto,
    route,
    headersFor: (upstreamHost) => requestHeadersForUpstream(c.req.raw.headers, { clientIp: remote.peer, proto: remote.proto, host: consumerHost, upstreamHost, requestId, ...edits }),
    wantsWebSocket,
  }
  // Held on another instance only (REDIS_URL): forwarded there, credentials already checked here.
  if (elsewhere !== undefined && elsewhere.length > 0) return forwardToHolder(svc, c, elsewhere, held, { identity: access.identity, edits }, observed)
  return serveHeld(svc, c, held, observed)
}

/** 503 circuit_open with Retry-After (seconds until the breaker lets a trial request through). */
export function circuitOpen(message: string, retryAfterS: number): Response {
  return errorResponse('circuit_open', message, { 'retry-after': String(retryAfterS) })
}

/** The consumer-credentials edits as the header filter takes them (the common one, no allocation). */
export function headerEdits(edits: readonly HeaderEdit[]): HeaderEdits {
  if (edits.length === 0) return {}
  if (edits.length === 1 && edits[0]!.op === 'delete' && edits[0]!.name === 'authorization') return { drop: DROP_AUTHORIZATION }
  const drop = new Set<string>()
  const replace = new Map<string, string>()
  for (const e of edits) {
    if (e.op === 'delete') drop.add(e.name)
    else replace.set(e.name, e.value)
  }
  return { drop, replace }
}
const DROP_AUTHORIZATION: ReadonlySet<string> = new Set(['authorization'])

/** Fields to drop and fields to replace before a request leaves for the next hop. */
export interface HeaderEdits {
  readonly drop?: ReadonlySet<string>
  readonly replace?: ReadonlyMap<string, string>
}

function rateLimited(verdict: Extract<RateVerdict, { ok: false }>, what: string): Response {
  const seconds = retryAfterSeconds(verdict.retryAfterMs)
  return errorResponse('rate_limited', `${what}; retry in ${seconds} s`, { 'retry-after': seconds })
}

/** `ANY /t/:tunnel/*`: path-based routing. */
export function proxyRoutes(svc: GatewayServices): Hono {
  const app = new Hono()
  // Host routing first: `<tunnel>.<base domain>` reaches the tunnel with every path untouched,
  // /healthz and /t/… included (they belong to the tunnel's own site there).
  const base = svc.config.baseDomain
  if (base !== undefined) {
    const suffix = '.' + base
    app.use('*', async (c, next) => {
      const host = (c.req.header('host') ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '')
      if (!host.endsWith(suffix)) return next()
      const url = new URL(c.req.url)
      return proxyToTunnel(svc, c, host.slice(0, -suffix.length), url.pathname + url.search, { routing: 'host' })
    })
  }
  // Segment index of `:tunnel` per matched route (the mount prefix is part of it): routes are few.
  const tunnelSegment = new Map<string, number>()
  const handler = (c: Context) => {
    const tunnel = c.req.param('tunnel') ?? ''
    const url = new URL(c.req.url)
    // Strip the mount prefix and `/t/<tunnel>` by counting segments of the matched route (the
    // tunnel segment may be spelled `%61lice` for `alice`), on the raw, still percent-encoded
    // path, so that what the local service sees is byte-for-byte what the consumer sent after it.
    const route = c.req.routePath
    let at = tunnelSegment.get(route)
    if (at === undefined) tunnelSegment.set(route, (at = route.split('/').indexOf(':tunnel')))
    const path = url.pathname
    let cut = 0
    for (let i = 0; i <= at && cut >= 0; i++) cut = path.indexOf('/', cut + (i === 0 ? 0 : 1))
    const rest = cut < 0 ? '/' : path.slice(cut)
    return proxyToTunnel(svc, c, tunnel, rest + url.search, { routing: 'path', mount: mountPrefixOf(route) })
  }
  app.all('/t/:tunnel', handler)
  app.all('/t/:tunnel/*', handler)
  return app
}
