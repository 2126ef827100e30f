import { connectUpstreamWebSocket } from '../proxy/websocket-bridge.ts'
import { errorResponse } from './errors.ts'
import type { RelayContext } from './relay-context.ts'
import { fixResponseFields } from './response-fixups.ts'

/**
 * A consumer's WebSocket to the local service: the service's handshake first (its subprotocol, its
 * 101's fields, or its refusal, relayed as they are), then the consumer's upgrade, then messages
 * both ways until either side closes.
 */
export async function relayWebSocket(r: RelayContext): Promise<Response> {
  const { svc, c } = r
  const upstream = await connectUpstreamWebSocket(r.open, { path: r.path, headers: r.headers, host: r.upstreamHost ?? 'localhost' }, svc.config.upstreamHeadTimeout)
  if (upstream.kind === 'failed') {
    r.finished()
    return errorResponse('upstream_unreachable', upstream.message)
  }
  if (r.forwarded === undefined) svc.registry.traffic.record(r.tunnel, 0, 0)
  else r.forwarded.requests++
  if (upstream.kind === 'refused') {
    // The service said no (401 with WWW-Authenticate, say): the consumer hears exactly that.
    r.finished()
    fixResponseFields(upstream.response.headers, r.location)
    return svc.runtime.respond(c, upstream.response)
  }
  fixResponseFields(upstream.headers, r.location)
  try {
    return await svc.runtime.upgradeWebSocket(c, upstream.bridge(r.finished), { protocol: upstream.protocol, headers: upstream.headers })
  } catch (err) {
    // The runtime refused the handshake after all: give back the channel and the upstream socket.
    upstream.terminate()
    r.finished()
    return errorResponse('bad_request', `Cannot open a WebSocket: the handshake failed (${(err as Error).message})`)
  }
}
