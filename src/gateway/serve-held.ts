import type { Context } from 'hono'
import { channelOpener } from './channel-opener.ts'
import type { ConsumerRoute } from './consumer-access.ts'
import { errorResponse, type ErrorCode } from './errors.ts'
import { withoutQuerySecrets } from './query-secrets.ts'
import { withRequestId } from './request-id.ts'
import { RequestRecord } from './request-record.ts'
import type { RelayContext } from './relay-context.ts'
import { relayHttp } from './relay-http.ts'
import { relayWebSocket } from './relay-websocket.ts'
import type { GatewayServices } from './services.ts'
import { tunnelPrefix } from './tunnel-prefix.ts'
import type { Lease } from './tunnel-registry.ts'
import { upstreamHost } from './upstream-host.ts'

const RETRY_AFTER_S = '1'

/** An admitted request for a tunnel this instance serves from its own pool (a consumer's, or one forwarded by another instance). */
export interface HeldRequest {
  readonly tunnel: string
  /** Origin-form target for the local service (prefix stripped, query kept). */
  readonly path: string
  /** The consumer, as the channel's originator (RFC 4254 §7.2). */
  readonly remote: { readonly address: string | undefined; readonly port: number | undefined }
  /** The socket's peer, appended to X-Forwarded-For by the first instance; undefined on a forwarded request (already there). */
  readonly peer: string | undefined
  /** The Host the consumer asked for (the public one). */
  readonly consumerHost: string | undefined
  readonly proto: 'http' | 'https'
  readonly route: ConsumerRoute
  /** The request fields for the service, given the Host it gets (proxy/headers.ts). */
  headersFor(upstreamHost: string | undefined): string[]
  readonly wantsWebSocket: boolean
}

/** What the route that admitted a request made for it: its id and its record (inspector, metrics). */
export class ObservedRequest {
  constructor(
    private readonly svc: GatewayServices,
    readonly requestId: string,
    /** Begun (`svc.observe.begin`) by the route; ended here, exactly once, when the request is over. */
    readonly record: RequestRecord,
  ) {}

  /** Burrow's own answer, marked with the request's id. */
  own(res: Response): Response {
    return withRequestId(res, this.requestId)
  }

  /** Burrow refuses the request itself (`code`): its record ends with the answer's status. */
  refuse(res: Response, code: ErrorCode): Response {
    this.record.status = res.status
    this.record.error = code
    this.svc.observe.finish(this.record)
    return withRequestId(res, this.requestId)
  }
}

/**
 * From here the request belongs to `tunnel`: its record is begun (the inspector shows it, the
 * metrics time it), and the answers Burrow gives itself carry its id. `target` is the origin-form
 * target for the service, `client` the consumer's address.
 */
export function beginObserved(svc: GatewayServices, requestId: string, tunnel: string, method: string, target: string, client: string | undefined): ObservedRequest {
  const record = new RequestRecord(requestId, tunnel, method, target, client)
  svc.observe.begin(record)
  return new ObservedRequest(svc, requestId, record)
}

/**
 * The pool's admission and the relay: a lease on the least-busy connection of the tunnel (queueing
 * when saturated), then the exchange or the WebSocket bridge. 404 `tunnel_not_found` when no
 * connection of the tunnel is here, 503 when saturated or draining.
 */
export async function serveHeld(svc: GatewayServices, c: Context, req: HeldRequest, o: ObservedRequest): Promise<Response> {
  const { tunnel, route } = req
  const { record, requestId } = o
  const registry = svc.registry
  const done = svc.inflight.begin()
  let lease: Lease | undefined
  try {
    const queuedFrom = performance.now()
    const got = registry.acquire(tunnel, () => c.req.raw.signal)
    const acquired = got instanceof Promise ? await got : got
    record.queuedMs = performance.now() - queuedFrom
    if (!acquired.ok) {
      done()
      if (acquired.code === 'draining') return o.refuse(errorResponse('draining', 'the gateway is shutting down', { connection: 'close' }), 'draining')
      return acquired.code === 'tunnel_not_found'
        ? o.refuse(errorResponse('tunnel_not_found', `tunnel ${tunnel} has no agent connected`), 'tunnel_not_found')
        : o.refuse(errorResponse('tunnel_saturated', `tunnel ${tunnel} is at capacity; retry shortly`, { 'retry-after': RETRY_AFTER_S }), 'tunnel_saturated')
    }
    const held = (lease = acquired.lease)
    const conn = held.conn
    record.conn = conn.id
    record.meterInto(registry.traffic.total, registry.traffic.countsOf(tunnel), conn)
    const consumerHost = req.consumerHost
    const hostForService = upstreamHost(conn.hostHeader, conn.forward, consumerHost)
    const relay: RelayContext = {
      svc,
      c,
      tunnel,
      conn,
      open: channelOpener(conn, req.remote),
      path: req.path,
      headers: req.headersFor(hostForService),
      upstreamHost: hostForService,
      // Redirects to the service's own host come back to the public one; under path routing,
      // redirects and cookies also move under the tunnel's prefix.
      location:
        consumerHost === undefined
          ? undefined
          : { prefix: route.routing === 'path' ? tunnelPrefix(route.mount, tunnel) : '/', publicOrigin: `${req.proto}://${consumerHost}`, upstreamHost: hostForService },
      requestId,
      record,
      finished: () => {
        if (record.ended) return
        held.release()
        done()
        registry.traffic.ended(tunnel)
        endRecord(svc, record)
      },
    }
    return await (req.wantsWebSocket ? relayWebSocket(relay) : relayHttp(relay))
  } catch (err) {
    // Whatever threw, the channel slot, the in-flight count and the record must not leak with it.
    if (lease !== undefined && !record.ended) lease.release()
    if (!record.ended) {
      done()
      record.status = 500
      record.error = 'internal'
      svc.observe.finish(record)
    }
    throw err
  }
}

/** The request is over: into the inspector and the metrics, and one `request` line at debug. */
export function endRecord(svc: GatewayServices, record: RequestRecord): void {
  svc.observe.finish(record)
  if (svc.log.enabled('debug')) logRequest(svc, record)
}

/** The gateway's line about one request, at debug: how to follow a request id through the log. */
function logRequest(svc: GatewayServices, r: RequestRecord): void {
  svc.log.debug('request', {
    requestId: r.id,
    user: r.tunnel,
    conn: r.conn,
    client: r.client,
    method: r.method,
    path: withoutQuerySecrets(r.target),
    status: r.status,
    ...(r.error === undefined ? {} : { error: r.error }),
    durationMs: Math.round(r.durationMs * 100) / 100,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
  })
}
