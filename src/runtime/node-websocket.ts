import type { IncomingMessage, Server } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hono } from 'hono'
import { WSContext } from 'hono/ws'
import { WebSocketServer, type WebSocket } from 'ws'
import type { TunnelWSEvents, UpgradeOptions } from './types.ts'

/** What a route decided for one upgrade request: how to answer the handshake, and who gets the socket. */
interface Plan {
  readonly protocol: string | undefined
  readonly headers: readonly string[]
  readonly events: TunnelWSEvents
}

/**
 * WebSocket upgrades on a Node server, routed through a Hono app. Node hands upgrades to an
 * 'upgrade' listener, not to the request handler, so each upgrade request is sent through
 * `rootApp()` (an embedding host's app, which mounts Burrow): a route that upgrades records its
 * plan, and the handshake is then completed with `ws`, confirming the route's subprotocol and
 * adding its fields to the 101 (RFC 6455 §4.2.2). Any other answer (a refusal, an error) is
 * written to the socket whole: status, every field, body. Replaces @hono/node-ws, which
 * confirmed the first offered subprotocol, dropped the 101's extra fields, and wrote refusals as
 * a bare status line.
 */
export function nodeWebSockets(rootApp: () => Hono<any, any, any>, maxPayload: number) {
  const plans = new WeakMap<IncomingMessage, Plan>()
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    // SSH frames are encrypted already, and a relayed socket negotiates its own extensions upstream.
    perMessageDeflate: false,
    handleProtocols: (_offered, req) => plans.get(req)?.protocol ?? false,
  })
  wss.on('headers', (lines: string[], req: IncomingMessage) => {
    const fields = plans.get(req)?.headers ?? []
    for (let i = 0; i < fields.length; i += 2) lines.push(`${fields[i]}: ${fields[i + 1]}`)
  })

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy())
    let response: Response
    try {
      response = await rootApp().request(requestUrl(req), { method: req.method, headers: requestHeaders(req) }, { incoming: req, outgoing: undefined })
    } catch {
      return void socket.destroy()
    }
    const plan = plans.get(req)
    if (plan === undefined) return writeResponse(socket, response)
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Whatever a handler throws here would reach the event loop and end the process.
      try {
        open(ws, plan, req)
      } catch {
        ws.terminate()
      }
    })
  }

  function open(ws: WebSocket, plan: Plan, req: IncomingMessage): void {
    const { events } = plan
    const ctx = new WSContext({
      send: (data) => ws.send(data as never),
      close: (code, reason) => ws.close(code, reason),
      raw: ws,
      readyState: 1,
      url: requestUrl(req),
      protocol: ws.protocol,
    })
    events.onOpen?.(new Event('open'), ctx)
    // Attached in the same turn as the handshake's completion: no frame can arrive before them.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && events.onBinary !== undefined) events.onBinary(data)
      // A binary message stays the Buffer `ws` made (a view; the handlers take views): no copy.
      else events.onMessage?.(new MessageEvent('message', { data: isBinary ? (data as unknown as ArrayBuffer) : data.toString('utf8') }), ctx)
    })
    // Node 20 has no global CloseEvent or ErrorEvent: the fields the handlers read are enough.
    ws.on('close', (code: number, reason: Buffer) => events.onClose?.({ type: 'close', code, reason: reason.toString('utf8'), wasClean: true } as unknown as CloseEvent, ctx))
    ws.on('error', (error: Error) => events.onError?.({ type: 'error', error } as unknown as Event, ctx))
  }

  return {
    /** The route's side: remember how to answer this handshake; the upgrade listener completes it. */
    upgrade(incoming: IncomingMessage | undefined, events: TunnelWSEvents, options: UpgradeOptions = {}): Response {
      if (incoming === undefined) throw new Error('not an upgrade request on a Node server (no incoming message)')
      plans.set(incoming, { protocol: options.protocol, headers: options.headers ?? [], events })
      return new Response(null)
    },
    /** Route a server's upgrades through the app (once per server). */
    inject(server: Server): void {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void onUpgrade(req, socket, head))
    },
  }
}

// As @hono/node-server builds a request's URL: an absolute-form target as it is, else Host + path.
// A Host no URL takes (`a/b#`, a broken IPv4 address) gives a placeholder authority; the request
// guard then refuses the request for its Host field, which it checks on its own.
function requestUrl(req: IncomingMessage): string {
  const target = req.url ?? '/'
  const url = target.startsWith('/') ? `http://${req.headers.host ?? 'localhost'}${target}` : target
  try {
    return new URL(url).href
  } catch {
    return `http://invalid.host${target.startsWith('/') ? target : '/'}`
  }
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
  return headers
}

/** Write `response` on a socket that was to be upgraded, then close it: the handshake was refused. */
async function writeResponse(socket: Duplex, response: Response): Promise<void> {
  let head = `HTTP/1.1 ${response.status} ${response.statusText || STATUS_CODES[response.status] || ''}\r\n`
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie' && name !== 'connection' && name !== 'transfer-encoding') head += `${name}: ${value}\r\n`
  })
  for (const cookie of response.headers.getSetCookie()) head += `set-cookie: ${cookie}\r\n`
  // No length is promised unless the response had one: the body then runs until the close.
  socket.write(head + 'connection: close\r\n\r\n', 'latin1')
  try {
    if (response.body !== null) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (socket.destroyed) break
        socket.write(chunk)
      }
    }
  } catch {
    return void socket.destroy()
  }
  socket.end()
}
