import { connectUpstreamWebSocket, type UpstreamWebSocket } from '../proxy/websocket-bridge.ts'
import type { Judged } from './circuit-breakers.ts'
import { relayFailed, type RelayContext } from './relay-context.ts'
import { fixResponseFields } from './response-fixups.ts'

/**
 * A consumer's WebSocket to the local service: the service's handshake first (its subprotocol, its
 * 101's fields, or its refusal, relayed as they are), then the consumer's upgrade, then messages
 * both ways until either side closes. The handshake runs under the tunnel's circuit breaker.
 */
export async function relayWebSocket(r: RelayContext): Promise<Response> {
  const { svc, c, record } = r
  const connect = async (): Promise<UpstreamWebSocket> => {
    const upstream = await connectUpstreamWebSocket(r.open, { path: r.path, headers: r.headers, host: r.upstreamHost ?? 'localhost' }, svc.config.upstreamHeadTimeout)
    const gone = r.conn.goneReason
    return upstream.kind === 'failed' && gone !== undefined ? { kind: 'failed', message: gone, tunnelLost: true } : upstream
  }
  // Forwarded to another instance: the holder's breaker judges its service, not this one.
  const upstream = r.forwarded === undefined ? await svc.breakers.run(r.tunnel, connect, judgeHandshake) : await connect()
  if (upstream === undefined) {
    const gate = svc.breakers.admit(r.tunnel)
    return relayFailed(r, 'circuit_open', gate.ok ? `tunnel ${r.tunnel}'s circuit breaker is open` : gate.message, { 'retry-after': String(gate.ok ? 1 : gate.retryAfterS) })
  }
  if (upstream.kind === 'failed') {
    svc.log.warn('upstream_error', { requestId: r.requestId, conn: r.conn.id, user: r.tunnel, code: 'upstream_unreachable', message: upstream.message })
    return relayFailed(r, 'upstream_unreachable', upstream.message)
  }
  if (upstream.kind === 'refused') {
    // The service said no (401 with WWW-Authenticate, say): the consumer hears exactly that.
    svc.observe.answered(record, upstream.response.status, false)
    r.finished()
    fixResponseFields(upstream.response.headers, r.location, r.requestId)
    return svc.runtime.respond(c, upstream.response)
  }
  fixResponseFields(upstream.headers, r.location, r.requestId)
  svc.observe.answered(record, 101, true)
  try {
    return await svc.runtime.upgradeWebSocket(c, upstream.bridge(r.finished, record), { protocol: upstream.protocol, headers: upstream.headers })
  } catch (err) {
    // The runtime refused the handshake after all: give back the channel and the upstream socket.
    upstream.terminate()
    return relayFailed(r, 'bad_request', `Cannot open a WebSocket: the handshake failed (${(err as Error).message})`)
  }
}

function judgeHandshake(upstream: UpstreamWebSocket): Judged {
  // A malformed answer to the upgrade is the service's answer: like a refusal, it does not count;
  // nor does the agent's connection going away mid-handshake (relay-http.ts, judgeExchange).
  return upstream.kind === 'failed' && upstream.serviceAnswered !== true && upstream.tunnelLost !== true ? { upstreamFailed: true, reason: 'upstream_unreachable' } : { upstreamFailed: false }
}
