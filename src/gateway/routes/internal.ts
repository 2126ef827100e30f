import { Hono, type Context } from 'hono'
import { isClusterSecret } from '../../cluster/cluster-secret.ts'
import { CLUSTER_FIELD_NAMES, CLUSTER_FIELDS, INTERNAL_PATH, parseRouteField } from '../../cluster/internal-fields.ts'
import { requestHeadersForUpstream } from '../../proxy/headers.ts'
import { REQUEST_ID_FIELD, TUNNEL_NAME } from '../../wire/index.ts'
import { errorResponse } from '../errors.ts'
import { requestIdOf } from '../request-id.ts'
import { beginObserved, serveHeld } from '../serve-held.ts'
import { circuitOpen } from './proxy.ts'
import type { GatewayServices } from '../services.ts'
import { checkWebSocketUpgrade } from '../websocket-handshake.ts'

/**
 * `ANY /_burrow/internal/forward` (only with REDIS_URL): a consumer request another instance
 * admitted and forwarded here because this instance holds the tunnel. Only the cluster secret
 * opens it (a consumer's or the admin's token is just a wrong secret: 401). The first instance
 * checked the consumer's credentials and removed them; this one does the pool's admission as for
 * its own consumers, and never forwards again: a tunnel not held here is 404, so a request makes
 * at most one hop whatever the directories say.
 */
export function internalRoute(svc: GatewayServices): Hono {
  const app = new Hono()
  app.all(INTERNAL_PATH, async (c) => {
    const { clusterSecret } = await svc.opened()
    const headers = c.req.raw.headers
    if (clusterSecret === undefined || !isClusterSecret(headers.get(CLUSTER_FIELDS.auth) ?? undefined, clusterSecret)) {
      return errorResponse('unauthorized', 'the internal route takes only requests from other gateway instances')
    }
    if (svc.isDraining()) return errorResponse('draining', 'the gateway is shutting down', { connection: 'close' })
    const tunnel = headers.get(CLUSTER_FIELDS.tunnel) ?? ''
    const path = headers.get(CLUSTER_FIELDS.path) ?? ''
    const route = parseRouteField(headers.get(CLUSTER_FIELDS.route) ?? undefined)
    if (!TUNNEL_NAME.test(tunnel) || !path.startsWith('/') || route === undefined || headers.get(CLUSTER_FIELDS.hop) === null) {
      return errorResponse('bad_request', 'a forwarded request needs its tunnel, path, route and hop fields')
    }
    const wantsWebSocket = headers.get('upgrade')?.toLowerCase() === 'websocket'
    const badHandshake = wantsWebSocket ? checkWebSocketUpgrade(c.req.method, headers) : undefined
    if (badHandshake !== undefined) return errorResponse('bad_request', `Cannot open a WebSocket: ${badHandshake}`)
    // The first instance set X-Forwarded-For (with the consumer's address), -Proto and -Host from
    // what it saw and dropped the consumer's own: they are taken as they came, not appended to.
    const proto = headers.get('x-forwarded-proto') === 'https' ? 'https' : 'http'
    const consumerHost = headers.get('x-forwarded-host') ?? undefined
    const client = headers.get(CLUSTER_FIELDS.client) || undefined
    // The first instance's request id (it sent it as X-Request-Id): one id across both logs.
    const requestId = requestIdOf(headers.get(REQUEST_ID_FIELD) ?? undefined)
    ;(c as Context).set('requestId', requestId)
    const observed = beginObserved(svc, requestId, tunnel, c.req.method, path, client)
    observed.record.websocket = wantsWebSocket
    // This instance's breaker judges its own agents' service, as for its own consumers.
    const gate = svc.breakers.admit(tunnel)
    if (!gate.ok) return observed.refuse(circuitOpen(gate.message, gate.retryAfterS), 'circuit_open')
    return serveHeld(svc, c, {
      tunnel,
      path,
      remote: { address: client, port: undefined },
      peer: undefined,
      consumerHost,
      proto,
      route,
      headersFor: (upstreamHost) => requestHeadersForUpstream(headers, { clientIp: undefined, proto, host: consumerHost, upstreamHost, drop: CLUSTER_FIELD_NAMES, requestId }),
      wantsWebSocket,
    }, observed)
  })
  return app
}
