import type { Hono } from 'hono'
import { getBunServer, getConnInfo, websocket } from 'hono/bun'
import { clientAddressVia } from './client-address.ts'
import { onSignalAborted } from './consumer-gone.ts'
import { webResponse } from './web-response.ts'
import type { RuntimeAdapter, ServeHandle, ServeOptions, TunnelWSEvents } from './types.ts'

interface BunSocketLike {
  readonly data: { events: TunnelWSEvents }
  getBufferedAmount?: () => number
  terminate?: () => void
}

// Hono's Bun handler has no `drain`; the events object we gave to upgradeWebSocket travels in
// `ws.data.events`, so the drain hook reaches the transport through it.
const tunnelWebsocket = {
  ...websocket,
  // SSH rides in binary frames, one per packet batch: hand them straight to the transport
  // (Hono's handler builds a WSContext and a MessageEvent for every frame).
  message(ws: BunSocketLike, message: string | Uint8Array) {
    const onBinary = ws.data.events.onBinary
    if (onBinary !== undefined && typeof message !== 'string') onBinary(message)
    else websocket.message(ws as never, message as never)
  },
  drain(ws: BunSocketLike) {
    ws.data.events.onDrain?.()
  },
  // SSH frames are already encrypted: compression would only burn CPU.
  perMessageDeflate: false,
  // 16 MiB: SSH packets are far smaller; a bigger frame is an attack.
  maxPayloadLength: 16 * 1024 * 1024,
  // Above this Bun drops frames (send() returns 0), which would corrupt the SSH stream. WsDuplex
  // holds writes once 24 MiB are queued, and closes a peer that leaves 64 MiB unread.
  backpressureLimit: 64 * 1024 * 1024,
  closeOnBackpressureLimit: false,
  idleTimeout: 0,
}

/** The Bun adapter: Bun.serve with Hono's WebSocket helper. */
export function createBunAdapter(): RuntimeAdapter {
  return {
    name: 'bun',
    async upgradeWebSocket(c, events, options = {}) {
      const server = getBunServer(c) as { upgrade?(req: Request, o: { data: unknown; headers?: Headers }): boolean } | undefined
      if (server?.upgrade === undefined) throw new Error('not served by Bun.serve (no server in the context)')
      // Bun confirms the first offered subprotocol unless told: the 101 says what `options` says,
      // and an empty value makes Bun send none (probed: the field is left out).
      const headers = new Headers()
      headers.set('sec-websocket-protocol', options.protocol ?? '')
      const fields = options.headers ?? []
      for (let i = 0; i < fields.length; i += 2) headers.append(fields[i]!, fields[i + 1]!)
      // The data shape Hono's Bun handler (spread into tunnelWebsocket) reads.
      const data = { events, url: new URL(c.req.url), protocol: options.protocol ?? '' }
      if (!server.upgrade(c.req.raw, { data, headers })) throw new Error('Bun refused the upgrade')
      return new Response(null)
    },
    glue: { websocket: tunnelWebsocket },
    clientAddress: clientAddressVia(getConnInfo),
    // Bun.serve gives a byte body without Content-Type an invented application/octet-stream.
    respond: (_c, r) => webResponse(r, { bytesGetAType: true }),
    onConsumerGone: (c, onGone) => onSignalAborted(c.req.raw, onGone),
    bufferedAmount(raw) {
      const ws = raw as BunSocketLike
      return ws.getBufferedAmount?.() ?? 0
    },
    terminate(raw) {
      ;(raw as BunSocketLike).terminate?.()
    },
    async serve(app: Hono<any, any, any>, options: ServeOptions): Promise<ServeHandle> {
      const server = Bun.serve({
        port: options.port,
        hostname: options.hostname,
        fetch: app.fetch,
        websocket: tunnelWebsocket as never,
        // Streams (SSE, LLM output, big downloads) may be silent for long; the gateway enforces
        // its own head and silence timeouts, so Bun's 10 s default must not cut them.
        idleTimeout: 0,
        // Bun refuses bodies over 128 MiB by default (413). Bodies stream through the tunnel with
        // backpressure and are never held whole, so no limit here, as on Deno and Node.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      })
      return {
        port: server.port ?? options.port,
        hostname: options.hostname,
        async close(force = false) {
          await server.stop(force)
        },
      }
    },
  }
}
