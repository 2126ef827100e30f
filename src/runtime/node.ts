import type { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { createNodeWebSocket } from '@hono/node-ws'
import type { Hono } from 'hono'
import { MAX_FRAME_BYTES } from '../transport/frame-limit.ts'
import { clientAddressVia } from './client-address.ts'
import { onSignalAborted } from './consumer-gone.ts'
import { respondOnNode, type NodeBindings } from './node-respond.ts'
import { webResponse } from './web-response.ts'
import type { RuntimeAdapter, ServeHandle, ServeOptions } from './types.ts'

/**
 * The Node adapter. @hono/node-ws answers upgrades by calling `app.request()` on the app it was
 * created with, so it must be the root app that routes the upgrade URL (an embedding host's app).
 * It is resolved lazily, at the first upgrade.
 */
export function createNodeAdapter(rootApp: () => Hono<any, any, any>): RuntimeAdapter {
  const lazyApp = { request: (...args: Parameters<Hono['request']>) => rootApp().request(...args) }
  const nodeWs = createNodeWebSocket({ app: lazyApp as unknown as Hono })
  // `ws` reads messages of up to 100 MiB by default; tunnels take 16 MiB (frame-limit.ts). The
  // server reads its options at each upgrade, and @hono/node-ws offers no way to pass them.
  ;(nodeWs.wss.options as { maxPayload?: number }).maxPayload = MAX_FRAME_BYTES
  return {
    name: 'node',
    upgradeWebSocket: nodeWs.upgradeWebSocket as unknown as RuntimeAdapter['upgradeWebSocket'],
    glue: { injectWebSocket: (server) => nodeWs.injectWebSocket(server as Server) },
    clientAddress: clientAddressVia(getConnInfo),
    respond(c, r) {
      // Served by @hono/node-server: write it ourselves. Through `app.request()` (no server): a Response.
      const outgoing = (c.env as NodeBindings | undefined)?.outgoing
      return outgoing === undefined ? webResponse(r) : respondOnNode(outgoing, r)
    },
    onConsumerGone(c, onGone) {
      const outgoing = (c.env as NodeBindings | undefined)?.outgoing
      // `c.req.raw.signal` would build a whole undici Request per request here (docs/STACK-FINDINGS.md).
      if (outgoing === undefined) return onSignalAborted(c.req.raw, onGone)
      if (outgoing.destroyed) {
        queueMicrotask(onGone)
        return () => {}
      }
      outgoing.once('close', onGone)
      return () => outgoing.off('close', onGone)
    },
    getOrHeadBody(c) {
      // @hono/node-server builds a body only for other methods; the bytes are still on the socket.
      const incoming = (c.env as NodeBindings | undefined)?.incoming
      return incoming === undefined ? undefined : (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>)
    },
    bufferedAmount(raw) {
      return (raw as { bufferedAmount?: number }).bufferedAmount ?? 0
    },
    terminate(raw) {
      // `ws` otherwise waits 30 s for the peer's close frame before destroying the socket.
      ;(raw as { terminate?: () => void }).terminate?.()
    },
    takeBinaryFrames(raw, onBinary) {
      // @hono/node-ws copies each binary frame into a new ArrayBuffer and wraps it in a
      // MessageEvent. It attaches its listener right after onOpen returns, having replayed the
      // frames that arrived before: swap it out in a microtask, before the next frame can arrive.
      const ws = raw as EventEmitter
      queueMicrotask(() => {
        const helpers = ws.listeners('message') as ((data: unknown, isBinary: boolean) => void)[]
        ws.removeAllListeners('message')
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary) onBinary(data)
          else for (const helper of helpers) helper.call(ws, data, isBinary)
        })
      })
    },
    async serve(app: Hono<any, any, any>, options: ServeOptions): Promise<ServeHandle> {
      const headersTimeout = options.headersTimeoutMs ?? 60_000
      const server = await new Promise<Server>((resolve) => {
        const s = serve(
          {
            fetch: app.fetch,
            port: options.port,
            hostname: options.hostname,
            // Node checks headersTimeout only every connectionsCheckingInterval (30 s by default),
            // so a slow-header client would otherwise get up to 30 s more than it is allowed.
            serverOptions: { connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 4)) },
          },
          () => resolve(s as Server),
        ) as Server
      })
      // Long streams are bounded by the gateway's own timeouts, not Node's defaults.
      server.requestTimeout = 0
      server.headersTimeout = headersTimeout
      server.keepAliveTimeout = 5_000
      nodeWs.injectWebSocket(server)
      const port = (server.address() as AddressInfo).port
      return {
        port,
        hostname: options.hostname,
        close(force = false) {
          return new Promise<void>((resolve) => {
            server.close(() => resolve())
            if (force) server.closeAllConnections()
            else server.closeIdleConnections()
          })
        },
      }
    },
  }
}
