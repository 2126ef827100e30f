import type { Duplex } from 'node:stream'
import type { Connection } from 'ssh2'
import type { ForwardSpec } from '../transport/ssh-server.ts'

export type TransportKind = 'websocket' | 'tcp'

/** Who a new connection is, as its transport learned it. */
export interface LiveConnInit {
  readonly id: string
  readonly user: string
  readonly agentId: string | undefined
  /** Which of its connections the agent instance meant this to be (`Burrow-Agent-Slot`), if it said. */
  readonly slot?: number | undefined
  readonly isPublic: boolean
  /** When the token that authenticated it stops being valid (ms), if one did and it expires. */
  readonly expiresAt?: number | undefined
  readonly transport: TransportKind
  readonly remoteAddress: string | undefined
  /**
   * The Host the local service gets: a `host[:port]` value, 'preserve' (the consumer's), or
   * undefined when the agent did not say (stock OpenSSH): then it comes from the forward request.
   */
  readonly hostHeader?: string
}

/** The shell's side of one agent connection: the sockets and counters the pure pool does not hold. */
export interface LiveConn extends LiveConnInit {
  readonly openedAt: number
  /** Set once the agent's `tcpip-forward` is accepted: then the connection serves requests. */
  client: Connection | undefined
  forward: ForwardSpec | undefined
  /** Last time any bytes arrived from the peer (a sign of life), synced into the pool by the sweep. */
  lastByteAt: number
  /** Why the gateway is closing it, once close() was called. */
  closing: string | undefined
  /** SSH channels open right now (one per proxied request or consumer WebSocket, kept-alive ones too). */
  readonly channels: number
  requests: number
  bytesIn: number
  bytesOut: number
  /**
   * SSH disconnect (when possible), then close the transport with `reason`. With `peerGone` (stale)
   * the socket is cut right after the disconnect is written, instead of waiting for the peer's
   * close frame that will not come.
   */
  close(reason: string, wsCode?: number, options?: { peerGone?: boolean }): void
  /**
   * Why the connection went away (closed by the gateway, or its transport closed), or undefined
   * while it stands. Read by an exchange whose channel ended, to say why.
   */
  readonly goneReason: string | undefined
  /**
   * Count `channel` as open on this connection until it closes, and destroy it if the connection
   * goes away first, so whatever rides on it (a request waiting for its head, a streaming response)
   * ends at once rather than at a timeout.
   */
  adopt(channel: Duplex): void
  /** The transport closed: end every channel on it (idempotent; `close()` does this too). */
  gone(reason: string): void
}

/**
 * A fresh live connection with zeroed counters. `closeTransport` runs at most once, on the first
 * `close()`, with `closing` already set, so every transport closes the same way.
 */
export function newLiveConn(init: LiveConnInit, closeTransport: LiveConn['close'], now: number = Date.now()): LiveConn {
  // Channels, not requests: a channel carries many requests in turn, so this set changes on channel
  // open and close only. A per-request registration on this long-lived object (a Set of callbacks)
  // kept each request's closures reachable past its end: measured +70 µs of gateway CPU per request
  // on Bun, most of it garbage collection (docs/BENCHMARKS.md).
  const open = new Set<Duplex>()
  let goneReason: string | undefined
  const conn: LiveConn = {
    ...init,
    openedAt: now,
    client: undefined,
    forward: undefined,
    lastByteAt: now,
    closing: undefined,
    get channels() {
      return open.size
    },
    requests: 0,
    bytesIn: 0,
    bytesOut: 0,
    get goneReason() {
      return goneReason
    },
    close(reason, wsCode, options) {
      if (conn.closing !== undefined) return
      conn.closing = reason
      conn.gone(`the agent connection was closed (${reason})`)
      closeTransport(reason, wsCode, options)
    },
    adopt(channel) {
      if (goneReason !== undefined) return void channel.destroy()
      open.add(channel)
      channel.once('close', () => open.delete(channel))
    },
    gone(reason) {
      if (goneReason !== undefined) return
      goneReason = reason
      for (const channel of [...open]) {
        try {
          channel.destroy()
        } catch {}
      }
      open.clear()
    },
  }
  return conn
}

/** How a connection stands, as /admin/connections shows it. */
export type ConnectionState = 'connecting' | 'ready' | 'draining' | 'closing'

/**
 * `connecting` until its tunnel is registered, `ready` while it takes requests, `draining` when
 * the pool or the gateway stopped giving it new ones, `closing` once the gateway hangs up.
 */
export function connectionState(conn: LiveConn, poolState: 'ready' | 'draining' | undefined, gatewayDraining: boolean): ConnectionState {
  if (conn.closing !== undefined) return 'closing'
  if (conn.forward === undefined) return 'connecting'
  return poolState === 'draining' || gatewayDraining ? 'draining' : 'ready'
}
