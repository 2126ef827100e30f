import type { Hono } from 'hono'
import { getConnInfo, upgradeWebSocket } from 'hono/deno'
import { clientAddressVia } from './client-address.ts'
import { onSignalAborted } from './consumer-gone.ts'
import { webResponse } from './web-response.ts'
import type { RuntimeAdapter, ServeHandle, ServeOptions } from './types.ts'

declare const Deno: {
  readonly internal?: symbol
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { port: number; hostname: string }) => void; signal?: AbortSignal },
    handler: (req: Request, info: unknown) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void>; addr: { port: number; hostname: string } }
}

/** The Deno adapter: Deno.serve with Hono's WebSocket helper. */
export function createDenoAdapter(): RuntimeAdapter {
  return {
    name: 'deno',
    upgradeWebSocket: upgradeWebSocket as unknown as RuntimeAdapter['upgradeWebSocket'],
    glue: {},
    clientAddress: clientAddressVia(getConnInfo),
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
        { port: options.port, hostname: options.hostname, signal: abort.signal, onListen: (addr) => listening(addr) },
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
