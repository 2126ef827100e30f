import { Readable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'
import { onSignalAborted } from './consumer-gone.ts'
import { respondOnNode, type NodeBindings } from './node-respond.ts'
import { webResponse } from './web-response.ts'
import { nodeWebSockets } from './node-websocket.ts'
import type { AdapterOptions, RuntimeAdapter, ServeHandle, ServeOptions } from './types.ts'

/**
 * The Node adapter: @hono/node-server, and WebSocket upgrades routed through `rootApp()` (the app
 * that receives every request: an embedding host's, which mounts Burrow), resolved at the first
 * upgrade, so a host may create its app after the gateway.
 */
export function createNodeAdapter(options: AdapterOptions): RuntimeAdapter {
  // `ws` would read messages of up to 100 MiB unless told.
  const sockets = nodeWebSockets(options.rootApp, options.maxFrameBytes)
  return {
    name: 'node',
    upgradeWebSocket: async (c, events, options) => sockets.upgrade((c.env as NodeBindings | undefined)?.incoming, events, options),
    glue: { websocket: undefined, injectWebSocket: (server) => sockets.inject(server as Server) },
    clientAddress(c) {
      // What @hono/node-server's getConnInfo reads, without its throw when embedded elsewhere.
      const socket = (c.env as NodeBindings | undefined)?.incoming?.socket
      return { address: socket?.remoteAddress, port: socket?.remotePort }
    },
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
    rawTarget: (c) => (c.env as NodeBindings | undefined)?.incoming?.url,
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
            createServer: ((serverOptions: object, listener: RequestListener) => {
              const onRequest: RequestListener = (req, res) => listener(lowerCaseHost(req), res)
              return options.tls === undefined
                ? createServer(serverOptions, onRequest)
                : createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, onRequest)
            }) as typeof createServer,
          },
          () => resolve(s as Server),
        ) as Server
      })
      // Long streams are bounded by the gateway's own timeouts, not Node's defaults.
      server.requestTimeout = 0
      server.headersTimeout = headersTimeout
      server.keepAliveTimeout = 5_000
      sockets.inject(server)
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

/**
 * Host names are case-insensitive (RFC 9110 §4.2.3), but @hono/node-server 1.19 answers an empty
 * 400 to a Host with capitals and a port (`LocalHost:8080`): it compares the name with the URL
 * parser's lower-cased one. Lower-casing the name first routes it as Bun and Deno do.
 */
function lowerCaseHost(req: IncomingMessage): IncomingMessage {
  const host = req.headers.host
  if (host !== undefined && /[A-Z]/.test(host)) req.headers.host = host.toLowerCase()
  return req
}
