import type { Hono } from 'hono'
import { WSContext } from 'hono/ws'
import { onSignalAborted } from './consumer-gone.ts'
import { webResponse } from './web-response.ts'
import type { AdapterOptions, RuntimeAdapter, ServeHandle, ServeOptions } from './types.ts'

/** Deno.serve's second handler argument, which Hono hands routes as `c.env`. */
interface DenoServeInfo {
  readonly remoteAddr?: { readonly hostname?: string; readonly port?: number }
}

interface DenoWebSocket extends EventTarget {
  binaryType: string
  readonly readyState: number
  readonly protocol: string
  readonly url: string
  send(data: string | ArrayBufferLike | ArrayBufferView): void
  close(code?: number, reason?: string): void
  onopen: ((evt: Event) => void) | null
  onmessage: ((evt: MessageEvent) => void) | null
  onclose: ((evt: CloseEvent) => void) | null
  onerror: ((evt: Event) => void) | null
}

declare const Deno: {
  readonly internal?: symbol
  upgradeWebSocket(req: Request): { response: Response; socket: DenoWebSocket }
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { port: number; hostname: string }) => void; onError?: (error: unknown) => Response; signal?: AbortSignal },
    handler: (req: Request, info: unknown) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void>; addr: { port: number; hostname: string } }
}

/**
 * The Deno adapter: Deno.serve and Deno.upgradeWebSocket. Importing it touches no Deno global
 * (Hono's `hono/deno` does), so it loads on any runtime. Deno cannot be told a WebSocket message
 * limit; the tunnel route checks each message against the frame limit itself.
 */
export function createDenoAdapter(_options: AdapterOptions): RuntimeAdapter {
  return {
    name: 'deno',
    async upgradeWebSocket(c, events, options = {}) {
      // Deno's own `protocol` option splits the offer on ", " only and refuses `a,b` (how the `ws`
      // package writes it) with a 500: the confirmation goes on the 101 directly instead.
      const { response, socket } = Deno.upgradeWebSocket(c.req.raw)
      if (options.protocol !== undefined) response.headers.set('sec-websocket-protocol', options.protocol)
      const fields = options.headers ?? []
      for (let i = 0; i < fields.length; i += 2) response.headers.append(fields[i]!, fields[i + 1]!)
      // The default, Blob, makes every read async and breaks the order of frames.
      socket.binaryType = 'arraybuffer'
      const ctx = new WSContext({
        send: (data) => socket.send(data as ArrayBuffer),
        close: (code, reason) => socket.close(code, reason),
        raw: socket,
        get readyState() {
          return socket.readyState as 0 | 1 | 2 | 3
        },
        url: new URL(c.req.url),
        protocol: options.protocol ?? null,
      })
      socket.onopen = (evt) => events.onOpen?.(evt, ctx)
      socket.onmessage = (evt) => events.onMessage?.(evt, ctx)
      socket.onclose = (evt) => events.onClose?.(evt, ctx)
      socket.onerror = (evt) => events.onError?.(evt, ctx)
      return response
    },
    glue: { websocket: undefined, injectWebSocket: () => {} },
    clientAddress(c) {
      const remote = (c.env as DenoServeInfo | undefined)?.remoteAddr
      return { address: remote?.hostname, port: remote?.port }
    },
    respond: (_c, r) => webResponse(r),
    onConsumerGone: (c, onGone) => onSignalAborted(c.req.raw, onGone),
    bufferedAmount(raw) {
      return (raw as { bufferedAmount?: number }).bufferedAmount ?? 0
    },
    terminate(raw) {
      terminateDenoSocket(raw)
    },
    async serve(app: Hono<any, any, any>, options: ServeOptions): Promise<ServeHandle> {
      const abort = new AbortController()
      let listening!: (addr: { port: number; hostname: string }) => void
      const ready = new Promise<{ port: number; hostname: string }>((resolve) => (listening = resolve))
      const server = Deno.serve(
        {
          port: options.port,
          hostname: options.hostname,
          signal: abort.signal,
          onListen: (addr) => listening(addr),
          // Reached only by a response body that failed mid-way (Hono answers a handler's own
          // errors): the gateway has logged why; Deno would print the error once per request.
          onError: () => new Response(null, { status: 500 }),
          ...(options.tls === undefined ? {} : { cert: options.tls.cert, key: options.tls.key }),
        },
        (req, info) => app.fetch(req, info),
      )
      const addr = await ready
      return {
        port: addr.port,
        hostname: options.hostname,
        async close(force = false) {
          if (force) abort.abort()
          else await server.shutdown()
          await server.finished
        },
      }
    },
  }
}

/**
 * Deno's WebSocket has no terminate(), and a server socket that sent its close frame waits for the
 * peer's answer forever (its idle-timeout pings stop at close): a black-holed or frozen agent would
 * keep the TCP connection open. Closing the socket's resource does what terminate() does elsewhere.
 * This reaches into Deno internals (`[[rid]]`, `core.tryClose`), so it degrades to a no-op if they move.
 */
function terminateDenoSocket(raw: unknown): void {
  if (typeof raw !== 'object' || raw === null) return
  const ridKey = Object.getOwnPropertySymbols(raw).find((s) => s.description === '[[rid]]')
  const rid = ridKey === undefined ? undefined : (raw as Record<symbol, unknown>)[ridKey]
  const internal = Deno.internal === undefined ? undefined : (Deno as unknown as Record<symbol, { core?: { tryClose?: (rid: number) => void } }>)[Deno.internal]
  if (typeof rid === 'number') internal?.core?.tryClose?.(rid)
}
