import type { Hono } from 'hono'
import { bunWebSocketHandler, upgradeOnBun, type BunServerLike, type BunSocket } from './bun-websocket.ts'
import { onSignalAborted } from './consumer-gone.ts'
import { webResponse } from './web-response.ts'
import type { AdapterOptions, RuntimeAdapter, ServeHandle, ServeOptions } from './types.ts'

/** The part of the `Bun` global the adapter uses: Bun.serve. */
export interface BunServeApi {
  serve(options: Record<string, unknown>): { port?: number; stop(force?: boolean): Promise<void> }
}

// Read at serve time, never at import: the adapter loads on any runtime.
const BUN: BunServeApi = { serve: (o) => (globalThis as unknown as { Bun: BunServeApi }).Bun.serve(o) }

/**
 * The Bun adapter: Bun.serve, and WebSockets through its `upgrade()` and `websocket` handler.
 * Importing it touches no Bun global (Hono's `hono/bun` does), so it loads anywhere and its
 * `websocket` handler exists as soon as the gateway does.
 */
export function createBunAdapter(options: AdapterOptions, bun: BunServeApi = BUN): RuntimeAdapter {
  const websocket = bunWebSocketHandler(options.maxFrameBytes)
  return {
    name: 'bun',
    // Under Bun.serve, Hono's `c.env` is the server.
    upgradeWebSocket: async (c, events, upgrade) => upgradeOnBun(c.env as BunServerLike | undefined, c.req.raw, events, upgrade),
    glue: { websocket, injectWebSocket: () => {} },
    clientAddress(c) {
      const ip = (c.env as BunServerLike | undefined)?.requestIP?.(c.req.raw)
      return { address: ip?.address, port: ip?.port }
    },
    // Bun.serve gives a byte body without Content-Type an invented application/octet-stream.
    respond: (_c, r) => webResponse(r, { bytesGetAType: true }),
    onConsumerGone: (c, onGone) => onSignalAborted(c.req.raw, onGone),
    bufferedAmount(raw) {
      return (raw as BunSocket).getBufferedAmount?.() ?? 0
    },
    terminate(raw) {
      ;(raw as BunSocket).terminate?.()
    },
    async serve(app: Hono<any, any, any>, serveOptions: ServeOptions): Promise<ServeHandle> {
      const server = bun.serve({
        port: serveOptions.port,
        hostname: serveOptions.hostname,
        fetch: app.fetch,
        websocket,
        // Streams (SSE, LLM output, big downloads) may be silent for long; the gateway enforces
        // its own head and silence timeouts, so Bun's 10 s default must not cut them.
        idleTimeout: 0,
        // Bun refuses bodies over 128 MiB by default (413). Bodies stream through the tunnel with
        // backpressure and are never held whole, so no limit here, as on Deno and Node.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        ...(serveOptions.tls === undefined ? {} : { tls: { cert: serveOptions.tls.cert, key: serveOptions.tls.key } }),
      })
      return {
        port: server.port ?? serveOptions.port,
        hostname: serveOptions.hostname,
        async close(force = false) {
          await server.stop(force)
        },
      }
    },
  }
}
