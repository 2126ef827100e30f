import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { WebSocket as WsClient } from 'ws'
import type { WSContext, WSEvents } from 'hono/ws'
import { ChannelAgent, type ChannelOpener } from './channel-agent.ts'

// The `ws` package's own client, loaded by path: Bun replaces the bare `ws` specifier with its
// built-in WebSocket, which cannot run over a custom Agent; the real client runs over our
// ChannelAgent on Bun, Deno and Node alike.
const require = createRequire(import.meta.url)
const RealWebSocket = require(join(dirname(require.resolve('ws/package.json')), 'lib/websocket.js')) as typeof WsClient

// Handshake fields the upstream client sets itself; copying the consumer's would break its handshake.
const HANDSHAKE_FIELDS = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-accept', 'sec-websocket-protocol', 'host'])

export type UpstreamSocket = { ok: true; socket: WsClient } | { ok: false; message: string }

/** Open a WebSocket to the local service through one SSH channel. */
export function connectUpstreamWebSocket(
  open: ChannelOpener,
  path: string,
  headers: readonly string[],
  protocols: string[],
  host: string,
  timeoutMs: number,
): Promise<UpstreamSocket> {
  const hdrs: Record<string, string> = {}
  for (let i = 0; i < headers.length; i += 2) if (!HANDSHAKE_FIELDS.has(headers[i]!)) hdrs[headers[i]!] = headers[i + 1]!
  return new Promise((resolve) => {
    const socket = new RealWebSocket(`ws://${host}${path}`, protocols, {
      agent: new ChannelAgent(open),
      headers: { ...hdrs, host },
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    })
    socket.binaryType = 'nodebuffer'
    socket.once('open', () => resolve({ ok: true, socket }))
    socket.once('unexpected-response', (_req, res) => {
      resolve({ ok: false, message: `the local service answered the upgrade with ${res.statusCode}` })
      socket.terminate()
    })
    socket.once('error', (err: Error) => resolve({ ok: false, message: `the local service refused the WebSocket (${err.message})` }))
  })
}

// Codes a peer may not send in a close frame (RFC 6455 §7.4.1): map them to something sendable.
function sendableCode(code: number | undefined): number {
  if (code === undefined || code === 1005 || code === 1006 || code === 1015) return 1000
  return code >= 1000 && code < 5000 ? code : 1000
}

/**
 * Events for the consumer side that relay every message both ways between the consumer's
 * WebSocket and the local service's. Messages the local service sends before the consumer side is
 * open are queued, not lost. `onEnd` runs once when either side closes. `wantsArrayBuffer`: set
 * the raw socket's binaryType (Deno).
 */
export function bridgeEvents(upstream: WsClient, onEnd: () => void, wantsArrayBuffer: boolean): WSEvents {
  let consumer: WSContext | undefined
  let ended = false
  const early: { data: Buffer | string; binary: boolean }[] = []
  const end = () => {
    if (ended) return
    ended = true
    onEnd()
  }
  const toConsumer = (data: Buffer | string, binary: boolean) => {
    if (consumer === undefined) return void early.push({ data, binary })
    consumer.send(binary ? new Uint8Array(data as Buffer) : (data as string))
  }
  upstream.on('message', (data: Buffer, isBinary: boolean) => toConsumer(isBinary ? data : data.toString('utf8'), isBinary))
  upstream.on('close', (code: number, reason: Buffer) => {
    consumer?.close(sendableCode(code), reason.toString('utf8').slice(0, 120))
    end()
  })
  upstream.on('error', () => {
    consumer?.close(1011, 'local service WebSocket error')
    end()
  })
  return {
    onOpen(_evt, ws) {
      consumer = ws
      // Deno's default Blob would make reads async; Bun must keep its default (its adapter reads
      // `message.buffer`, which 'arraybuffer' turns into null — STACK-NOTES).
      const raw = ws.raw as { binaryType?: string } | undefined
      if (wantsArrayBuffer && raw !== undefined) raw.binaryType = 'arraybuffer'
      for (const m of early.splice(0)) toConsumer(m.data, m.binary)
    },
    onMessage(evt) {
      const data = evt.data
      if (typeof data === 'string') upstream.send(data)
      else if (data instanceof ArrayBuffer) upstream.send(Buffer.from(data))
      else if (ArrayBuffer.isView(data)) upstream.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    },
    onClose(evt) {
      upstream.close(sendableCode((evt as CloseEvent).code), ((evt as CloseEvent).reason ?? '').slice(0, 120))
      end()
    },
    onError() {
      upstream.terminate()
      end()
    },
  }
}
