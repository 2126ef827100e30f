import { WSContext } from 'hono/ws'
import type { TunnelWSEvents, UpgradeOptions } from './types.ts'

/** What an upgrade hands Bun to keep on the socket (`ws.data`). */
export interface BunSocketData {
  readonly events: TunnelWSEvents
  readonly url: URL
  readonly protocol: string
  ctx?: WSContext
}

/** The parts of Bun's ServerWebSocket the handler uses. */
export interface BunSocket {
  readonly data: BunSocketData
  readonly readyState: number
  send(data: string | ArrayBufferLike | ArrayBufferView, compress?: boolean): number
  close(code?: number, reason?: string): void
  getBufferedAmount?(): number
  terminate?(): void
}

// Above this Bun drops frames (send() returns 0), which would corrupt an SSH stream. WsDuplex
// holds writes once 24 MiB are queued, and closes a peer that leaves 64 MiB unread.
const BACKPRESSURE_LIMIT = 64 * 1024 * 1024

/**
 * The `websocket` object Bun.serve takes: it dispatches each socket's events to the
 * TunnelWSEvents its upgrade stored in `ws.data`. Binary frames go straight to `onBinary` when the
 * events have one (an SSH tunnel: no event object per frame). `maxFrameBytes` is enforced by Bun
 * while reading (1009). Importing this touches no Bun global, so it loads on any runtime.
 */
export function bunWebSocketHandler(maxFrameBytes: number) {
  const contextOf = (ws: BunSocket) =>
    (ws.data.ctx ??= new WSContext({
      send: (data) => void ws.send(data as ArrayBufferLike),
      close: (code, reason) => ws.close(code, reason),
      raw: ws,
      get readyState() {
        return ws.readyState as 0 | 1 | 2 | 3
      },
      url: ws.data.url,
      protocol: ws.data.protocol,
    }))
  // A handler's exception must not reach Bun's event loop: it goes to the socket's onError.
  const guarded = (ws: BunSocket, run: () => void) => {
    try {
      run()
    } catch (error) {
      ws.data.events.onError?.({ type: 'error', error } as unknown as Event, contextOf(ws))
    }
  }
  return {
    open(ws: BunSocket) {
      guarded(ws, () => ws.data.events.onOpen?.(new Event('open'), contextOf(ws)))
    },
    message(ws: BunSocket, message: string | Uint8Array) {
      const events = ws.data.events
      if (typeof message !== 'string' && events.onBinary !== undefined) return guarded(ws, () => events.onBinary!(message))
      // A binary message is Bun's Uint8Array (a view; the handlers take views): no copy.
      guarded(ws, () => events.onMessage?.(new MessageEvent('message', { data: message as unknown as string }), contextOf(ws)))
    },
    close(ws: BunSocket, code: number, reason: string) {
      guarded(ws, () => ws.data.events.onClose?.({ type: 'close', code, reason, wasClean: true } as unknown as CloseEvent, contextOf(ws)))
    },
    drain(ws: BunSocket) {
      guarded(ws, () => ws.data.events.onDrain?.())
    },
    // SSH frames are already encrypted: compression would only burn CPU.
    perMessageDeflate: false,
    maxPayloadLength: maxFrameBytes,
    backpressureLimit: BACKPRESSURE_LIMIT,
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
  }
}

/** The parts of Bun's Server an upgrade uses (Hono's `c.env` under Bun.serve). */
export interface BunServerLike {
  upgrade(req: Request, options: { data: BunSocketData; headers?: Headers }): boolean
  requestIP?(req: Request): { address: string; port: number } | null
}

/**
 * Upgrade `req` on Bun's server: the 101 confirms `options.protocol` (or none: Bun would confirm
 * the first offered subprotocol unless told, and an empty value makes it send none) and carries
 * `options.headers`. Throws when `server` is not Bun's or Bun refuses the handshake.
 */
export function upgradeOnBun(server: BunServerLike | undefined, req: Request, events: TunnelWSEvents, options: UpgradeOptions = {}): Response {
  if (typeof server?.upgrade !== 'function') throw new Error('not served by Bun.serve (no server in the context)')
  const headers = new Headers()
  headers.set('sec-websocket-protocol', options.protocol ?? '')
  const fields = options.headers ?? []
  for (let i = 0; i < fields.length; i += 2) headers.append(fields[i]!, fields[i + 1]!)
  if (!server.upgrade(req, { data: { events, url: new URL(req.url), protocol: options.protocol ?? '' }, headers })) throw new Error('Bun refused the upgrade')
  return new Response(null)
}
