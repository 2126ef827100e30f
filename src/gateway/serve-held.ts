import type { Context } from 'hono'
import { channelOpener } from './channel-opener.ts'
import type { ConsumerRoute } from './consumer-access.ts'
import { errorResponse } from './errors.ts'
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

/**
 * The pool's admission and the relay: a lease on the least-busy connection of the tunnel (queueing
 * when saturated), then the exchange or the WebSocket bridge. 404 `tunnel_not_found` when no
 * connection of the tunnel is here, 503 when saturated or draining.
 */
export async function serveHeld(svc: GatewayServices, c: Context, req: HeldRequest): Promise<Response> {
  const { tunnel, route } = req
  const done = svc.inflight.begin()
  let lease: Lease | undefined
  try {
    const acquired = await svc.registry.acquire(tunnel, () => c.req.raw.signal)
    if (!acquired.ok) {
      done()
      if (acquired.code === 'draining') return errorResponse('draining', 'the gateway is shutting down', { connection: 'close' })
      return acquired.code === 'tunnel_not_found'
        ? errorResponse('tunnel_not_found', `tunnel ${tunnel} has no agent connected`)
        : errorResponse('tunnel_saturated', `tunnel ${tunnel} is at capacity; retry shortly`, { 'retry-after': RETRY_AFTER_S })
    }
    const held = (lease = acquired.lease)
    const conn = held.conn
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
      finished: () => {
        held.release()
        done()
      },
    }
    return await (req.wantsWebSocket ? relayWebSocket(relay) : relayHttp(relay))
  } catch (err) {
    // Whatever threw, the channel slot and the in-flight count must not leak with it.
    lease?.release()
    done()
    throw err
  }
}
