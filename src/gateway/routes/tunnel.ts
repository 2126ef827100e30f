import { Hono } from 'hono'
import type { TunnelWSEvents } from '../../runtime/index.ts'
import { WS_CLOSE } from '../../transport/close-codes.ts'
import { closeReason, MAX_FRAME_BYTES } from '../../transport/frame-limit.ts'
import { WsDuplex } from '../../transport/ws-duplex.ts'
import { authenticate } from '../auth.ts'
import type { GatewayServices } from '../services.ts'
import { errorResponse } from '../errors.ts'
import { agentConnection, CLOSE_FLUSH_MS } from '../agent-connection.ts'
import type { LiveConn } from '../live-conn.ts'
import { retryAfterSeconds } from '../rate-limits.ts'
import { checkWebSocketUpgrade } from '../websocket-handshake.ts'
import { connectionEndsAt } from '../token-expiry.ts'
import { AGENT_LIMIT_HEADERS, HOST_VALUE, TUNNEL_NAME } from '../../wire/index.ts'
import { INSTANCE_FIELD } from '../../cluster/internal-fields.ts'

const AGENT_ID = /^[A-Za-z0-9_.-]{1,64}$/
// An agent's connection index: a few digits (the user limit is at most 1000).
const AGENT_SLOT = /^\d{1,4}$/

/** `GET /tunnel`: authenticate the agent's bearer token, then carry SSH over binary WebSocket frames. */
export function tunnelRoute(svc: GatewayServices): Hono {
  const app = new Hono()
  app.get('/tunnel', async (c) => {
    if (svc.isDraining()) return errorResponse('draining', 'the gateway is shutting down; reconnect to another instance', { connection: 'close' })
    const runtime = svc.runtime
    const { ssh, verify } = await svc.opened()
    const remote = svc.client(c)
    // Attempts per IP, counted before the token is checked: guessing and reconnect storms both pay.
    const attempt = svc.limits.agentIp(remote.address)
    if (!attempt.ok) {
      const seconds = retryAfterSeconds(attempt.retryAfterMs)
      return errorResponse('rate_limited', `Cannot open a tunnel: too many connection attempts from your address; retry in ${seconds} s`, { 'retry-after': seconds })
    }
    // Authenticate before any upgrade: a refused agent never gets a WebSocket.
    const authn = await authenticate(verify, c.req.header('authorization'))
    if (!authn.ok) return errorResponse('unauthorized', `Cannot open a tunnel: ${authn.reason}`)
    if (!TUNNEL_NAME.test(authn.user)) {
      return errorResponse('forbidden', `Cannot open a tunnel: user name ${JSON.stringify(authn.user.slice(0, 64))} is not a valid tunnel name (a-z, 0-9, inner hyphens)`)
    }
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      return errorResponse('bad_request', 'Cannot open a tunnel: expected a WebSocket upgrade')
    }
    const badHandshake = checkWebSocketUpgrade(c.req.method, c.req.raw.headers)
    if (badHandshake !== undefined) return errorResponse('bad_request', `Cannot open a tunnel: ${badHandshake}`)
    const agentIdHeader = c.req.header('x-burrow-agent-id')
    const agentId = agentIdHeader !== undefined && AGENT_ID.test(agentIdHeader) ? agentIdHeader : undefined
    // Which of its connections this is: lets a reconnect replace its own dead slot (pool/admit.ts).
    const slotHeader = c.req.header('burrow-agent-slot')
    const slot = agentId !== undefined && slotHeader !== undefined && AGENT_SLOT.test(slotHeader) ? Number(slotHeader) : undefined
    const isPublic = c.req.header('x-burrow-public') === '1'
    // `burrow connect --host-header`: `preserve`, or the Host the local service wants to see.
    const hostHeader = c.req.header('burrow-host-header')
    if (hostHeader !== undefined && hostHeader !== 'preserve' && !HOST_VALUE.test(hostHeader)) {
      return errorResponse('bad_request', 'Cannot open a tunnel: Burrow-Host-Header must be "preserve" or HOST[:PORT]')
    }
    const id = svc.nextConnId()
    const user = authn.user
    let duplex: WsDuplex | undefined
    let live: LiveConn | undefined
    let agent: ReturnType<typeof agentConnection> | undefined
    let handshakeTimer: ReturnType<typeof setTimeout> | undefined
    const refuse = (code: number, reason: string) => {
      duplex?.setCloseReason(code, closeReason(reason))
      duplex?.destroy()
    }
    const receive = (bytes: ArrayBuffer | ArrayBufferView) => {
      // Bun and Node refuse these while reading; Deno reads up to 64 MiB first (frame-limit.ts).
      if (bytes.byteLength > MAX_FRAME_BYTES) return refuse(WS_CLOSE.tooBig, `frame larger than ${MAX_FRAME_BYTES} bytes`)
      if (live !== undefined) live.lastByteAt = Date.now()
      duplex?.receive(bytes)
    }

    const events: TunnelWSEvents = {
      onOpen(_evt, ws) {
        duplex = new WsDuplex(
          {
            send: (bytes) => ws.send(bytes as Uint8Array<ArrayBuffer>),
            close: (code, reason) => ws.close(code, reason),
            bufferedAmount: () => runtime.bufferedAmount(ws.raw),
            terminate: () => runtime.terminate(ws.raw),
          },
          {
            remoteAddress: remote.address,
            remotePort: remote.port,
            onPeerNotReading: (unread) => svc.log.warn('agent_not_reading', { conn: id, user, remote: remote.address, unreadMiB: Math.round(unread / 1048576) }),
          },
        )
        const d = duplex
        agent = agentConnection(
          svc,
          { id, user, agentId, slot, isPublic, expiresAt: connectionEndsAt(authn.exp), transport: 'websocket', remoteAddress: remote.address, hostHeader },
          (reason, wsCode = WS_CLOSE.normal, options = {}) => {
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
        )
        live = agent.conn
        agent.opened()
        // Until the peer proves it speaks SSH, a close means it did not. Every way SSH can end the
        // socket then leaves a reason in the close frame, which the agent (or ws-stdio) prints.
        d.setCloseReason(WS_CLOSE.policy, 'not an SSH client: expected an SSH-2.0 identification')
        const timeoutMs = svc.config.sshHandshakeTimeout
        // The token authenticated the WebSocket, but a peer that stalls in the handshake would
        // hold it forever (SSH keep-alives start only after authentication).
        handshakeTimer = setTimeout(() => {
          svc.log.info('ssh_handshake_timeout', { conn: id, user, remote: remote.address, ms: timeoutMs })
          live?.close(`SSH handshake not completed within ${timeoutMs} ms`, WS_CLOSE.policy)
        }, timeoutMs)
        ssh.inject(d, { connId: id, user }, {
          onHeader: () => d.setCloseReason(WS_CLOSE.normal, ''),
          onReady: () => clearTimeout(handshakeTimer),
          onError: (message, level) => {
            if (live?.closing !== undefined) return
            if (level === 'client-timeout') d.setCloseReason(WS_CLOSE.goingAway, 'no answer to SSH keep-alives')
            else d.setCloseReason(WS_CLOSE.policy, closeReason(`SSH protocol error: ${message}`))
          },
        })
      },
      onMessage(evt) {
        const payload = evt.data
        if (typeof payload === 'string') return refuse(WS_CLOSE.unsupportedData, 'text frames are not SSH')
        if (payload instanceof ArrayBuffer || ArrayBuffer.isView(payload)) receive(payload)
        else refuse(WS_CLOSE.unsupportedData, 'unsupported frame type')
      },
      onBinary: (bytes) => receive(bytes),
      onClose() {
        clearTimeout(handshakeTimer)
        duplex?.remoteClosed()
        agent?.closed()
      },
      onError() {
        duplex?.destroy()
      },
      onDrain() {
        duplex?.drained()
      },
    }
    try {
      // The agent's budget on the 101 (wire/agent-limits.ts): an adaptive agent grows up to it.
      const headers = [
        AGENT_LIMIT_HEADERS.maxConnections, String(svc.config.maxConnectionsPerUser),
        AGENT_LIMIT_HEADERS.channelsPerConnection, String(svc.config.sshMaxChannels),
      ]
      // With REDIS_URL, the agent learns which instance it reached (also behind one load-balanced
      // URL), to spread its connections over several (agent/instance-spread.ts).
      if (svc.cluster !== undefined) headers.push(INSTANCE_FIELD, svc.cluster.instanceId)
      return await runtime.upgradeWebSocket(c, events, { headers })
    } catch (err) {
      // The runtime refused the handshake after all: nothing was opened yet.
      return errorResponse('bad_request', `Cannot open a tunnel: the WebSocket handshake failed (${(err as Error).message})`)
    }
  })
  return app
}
