import { Hono } from 'hono'
import type { TunnelWSEvents } from '../../runtime/index.ts'
import { WsDuplex } from '../../transport/ws-duplex.ts'
import { authenticate } from '../auth.ts'
import type { GatewayCore } from '../core.ts'
import { errorResponse } from '../errors.ts'
import type { LiveConn } from '../live-conn.ts'

const AGENT_ID = /^[A-Za-z0-9_.-]{1,64}$/
// How long a closing connection gets to flush its SSH disconnect before the socket is cut.
const CLOSE_FLUSH_MS = 250

/** `GET /tunnel`: authenticate the agent's bearer token, then carry SSH over binary WebSocket frames. */
export function tunnelRoute(core: GatewayCore): Hono {
  const app = new Hono()
  app.get('/tunnel', async (c) => {
    if (core.isDraining()) return errorResponse('draining', 'the gateway is shutting down; reconnect to another instance', { connection: 'close' })
    const { runtime, ssh, verify } = await core.resources()
    // Authenticate before any upgrade: a refused agent never gets a WebSocket.
    const authn = await authenticate(verify, c.req.header('authorization'))
    if (!authn.ok) return errorResponse('unauthorized', `Cannot open a tunnel: ${authn.reason}`)
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      return errorResponse('bad_request', 'Cannot open a tunnel: expected a WebSocket upgrade')
    }
    const agentIdHeader = c.req.header('x-burrow-agent-id')
    const agentId = agentIdHeader !== undefined && AGENT_ID.test(agentIdHeader) ? agentIdHeader : undefined
    const isPublic = c.req.header('x-burrow-public') === '1'
    const remote = runtime.clientAddress(c)
    const id = core.nextConnId()
    const user = authn.user
    let duplex: WsDuplex | undefined
    let live: LiveConn | undefined

    const events: TunnelWSEvents = {
      onOpen(_evt, ws) {
        const raw = ws.raw as { binaryType?: string } | undefined
        // Deno defaults to Blob, whose async reads break frame order.
        if (runtime.name === 'deno' && raw !== undefined) raw.binaryType = 'arraybuffer'
        duplex = new WsDuplex(
          {
            send: (bytes) => ws.send(bytes as Uint8Array<ArrayBuffer>),
            close: (code, reason) => ws.close(code, reason),
            bufferedAmount: () => runtime.bufferedAmount(ws.raw),
            terminate: () => runtime.terminate(ws.raw),
          },
          { remoteAddress: remote.address, remotePort: remote.port },
        )
        const d = duplex
        live = {
          id,
          user,
          agentId,
          isPublic,
          transport: 'websocket',
          remoteAddress: remote.address,
          openedAt: Date.now(),
          client: undefined,
          forward: undefined,
          lastByteAt: Date.now(),
          closing: undefined,
          channels: 0,
          requests: 0,
          bytesIn: 0,
          bytesOut: 0,
          close(reason, wsCode = 1000, options = {}) {
            if (live!.closing !== undefined) return
            live!.closing = reason
            d.setCloseReason(wsCode, reason)
            // SSH DISCONNECT carrying `reason` first (ssh2 ends the socket after it, and the duplex
            // sends the close frame with `reason` too: Burrow's agent reads that one, OpenSSH over
            // ws-stdio prints the other), then make sure the socket goes even if a write never
            // drains; the duplex cuts the connection when the peer does not answer the close frame.
            if (!ssh.disconnect(id, reason)) d.end()
            if (options.peerGone === true) {
              d.destroy()
              runtime.terminate(ws.raw)
              return
            }
            setTimeout(() => d.destroy(), CLOSE_FLUSH_MS)
          },
        }
        core.registry.track(live)
        core.log.info('agent_connected', { conn: id, user, agent: agentId, remote: remote.address, transport: 'websocket' })
        ssh.inject(duplex, { connId: id, user })
      },
      onMessage(evt) {
        const payload = evt.data
        if (typeof payload === 'string') {
          duplex?.setCloseReason(1003, 'text frames are not SSH')
          duplex?.destroy()
          return
        }
        if (live !== undefined) live.lastByteAt = Date.now()
        if (payload instanceof ArrayBuffer || ArrayBuffer.isView(payload)) duplex?.receive(payload)
        else {
          duplex?.setCloseReason(1003, 'unsupported frame type')
          duplex?.destroy()
        }
      },
      onBinary(bytes) {
        if (live !== undefined) live.lastByteAt = Date.now()
        duplex?.receive(bytes)
      },
      onClose() {
        duplex?.remoteClosed()
        core.registry.closed(id)
        core.log.info('agent_disconnected', { conn: id, user })
      },
      onError() {
        duplex?.destroy()
      },
      onDrain() {
        duplex?.drained()
      },
    }
    return runtime.upgradeWebSocket(c, events)
  })
  return app
}
