import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { WebSocket as WsClient } from 'ws'
import type { WSContext, WSEvents } from 'hono/ws'
import { ChannelAgent, type ChannelOpener } from './channel-agent.ts'
import type { ByteMeter } from './exchange.ts'
import { checkInterimHead, checkResponseHead } from './response-head.ts'
import type { FieldList, UpstreamResponse } from './upstream-response.ts'

// The `ws` package's own client, loaded by path: Bun replaces the bare `ws` specifier with its
// built-in WebSocket, which cannot run over a custom Agent; the real client runs over our
// ChannelAgent on Bun, Deno and Node alike.
const require = createRequire(import.meta.url)
const RealWebSocket = require(join(dirname(require.resolve('ws/package.json')), 'lib/websocket.js')) as typeof WsClient

// Handshake fields the upstream client sets itself; copying the consumer's would break its handshake.
// The consumer's Sec-WebSocket-Protocol is passed on as sent (see connectUpstreamWebSocket).
const HANDSHAKE_FIELDS = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-accept', 'host'])
// Fields of the service's 101 that belong to its own handshake with the gateway; the consumer's
// 101 gets its own from the runtime (extensions are negotiated per leg, RFC 6455 §9.1).
const OWN_101_FIELDS = new Set(['sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions', 'date', 'content-length'])

/** What to ask the local service for: an origin-form target, filtered fields, the consumer's offer. */
export interface UpstreamWebSocketRequest {
  readonly path: string
  /** Flat `[name, value, …]` request fields for the service (Host comes from `host`). */
  readonly headers: readonly string[]
  /** The Host the service gets. */
  readonly host: string
}

/**
 * How the service answered the upgrade. `open`: it switched protocols; `protocol` is the
 * subprotocol it chose (to confirm to the consumer), `headers` the other fields of its 101 (a
 * Set-Cookie, say), and `bridge()` hands over every message, those it sent right after its
 * handshake included, counting each message's payload bytes into `meter` as it passes (`countIn`:
 * service → consumer, `countOut`: consumer → service). `refused`: it answered with an ordinary response (a 401 with
 * WWW-Authenticate, say), relayed as it is. `failed`: no answer worth relaying (502).
 */
export type UpstreamWebSocket =
  | { readonly kind: 'open'; readonly protocol: string | undefined; readonly headers: FieldList; bridge(onEnd: () => void, meter?: ByteMeter): WSEvents; terminate(): void }
  | { readonly kind: 'refused'; readonly response: UpstreamResponse }
  | {
      readonly kind: 'failed'
      readonly message: string
      /** It answered, malformed (its answer, not unreachable). */
      readonly serviceAnswered?: true
      /** The agent's connection went away during the handshake (not the service's failure). */
      readonly tunnelLost?: true
    }

/**
 * Open a WebSocket to the local service through one SSH channel, waiting at most `timeoutMs`
 * for its answer. Never rejects.
 */
export function connectUpstreamWebSocket(open: ChannelOpener, req: UpstreamWebSocketRequest, timeoutMs: number): Promise<UpstreamWebSocket> {
  const hdrs: Record<string, string> = {}
  for (let i = 0; i < req.headers.length; i += 2) if (!HANDSHAKE_FIELDS.has(req.headers[i]!)) hdrs[req.headers[i]!] = req.headers[i + 1]!
  return new Promise((resolve) => {
    // The subprotocol offer travels as a plain field, not as `ws`'s `protocols`: `ws` fails a
    // handshake whose answer names no subprotocol, or one not offered, where a browser talking to
    // the service directly would decide for itself. The service's choice is read off its 101 and
    // confirmed to the consumer, whose client then judges it as it would have directly.
    const socket = new RealWebSocket(`ws://${req.host}${req.path}`, [], {
      agent: new ChannelAgent(open),
      headers: { ...hdrs, host: req.host },
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    })
    socket.binaryType = 'nodebuffer'
    // Listening from the start: a service may speak the moment its handshake is done (Vite's
    // `connected`, engine.io's open packet), before the consumer's side is even upgraded.
    const relay = new MessageRelay(socket)
    let own101: FieldList = []
    let chosen: string | undefined
    socket.once('upgrade', (res: IncomingMessage) => {
      own101 = fieldsOf101(res.rawHeaders)
      const protocol = res.headers['sec-websocket-protocol']
      chosen = typeof protocol === 'string' && protocol !== '' ? protocol : undefined
      // Taken off before `ws` checks it against an offer it never made (it runs right after this).
      delete res.headers['sec-websocket-protocol']
    })
    socket.once('open', () =>
      resolve({
        kind: 'open',
        protocol: chosen,
        headers: own101,
        bridge: (onEnd, meter) => relay.bridge(onEnd, meter),
        terminate: () => socket.terminate(),
      }),
    )
    socket.once('unexpected-response', (_req: unknown, res: IncomingMessage) => resolve(refusal(res, () => socket.terminate())))
    socket.once('error', (err: Error) => resolve({ kind: 'failed', message: `the local service refused the WebSocket (${err.message})` }))
    // `ws` gave up on the handshake and closed (it waits for the channel's close; ssh2 channels
    // emit no 'error' on destroy): the first settlement wins, this one only if nothing else came.
    socket.once('close', () => resolve({ kind: 'failed', message: 'the WebSocket handshake with the local service failed' }))
  })
}

function fieldsOf101(raw: readonly string[]): FieldList {
  const checked = checkInterimHead(raw) ?? []
  const out: FieldList = []
  for (let i = 0; i < checked.length; i += 2) if (!OWN_101_FIELDS.has(checked[i]!)) out.push(checked[i]!, checked[i + 1]!)
  return out
}

/** The service said no to the upgrade: its status, fields and body go to the consumer as they are. */
function refusal(res: IncomingMessage, done: () => void): UpstreamWebSocket {
  const verdict = checkResponseHead(res.statusCode ?? 0, res.statusMessage ?? '', res.rawHeaders)
  if (!verdict.ok) {
    done()
    return { kind: 'failed', message: `the local service answered the upgrade with a malformed response: ${verdict.reason}`, serviceAnswered: true }
  }
  res.once('end', done)
  res.once('error', done)
  res.once('close', done)
  const body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>
  return { kind: 'refused', response: { status: res.statusCode!, statusText: verdict.statusText, headers: verdict.headers, body, interim: [], trailers: Promise.resolve([]) } }
}

// Codes a peer may not send in a close frame (RFC 6455 §7.4.1): map them to something sendable.
function sendableCode(code: number | undefined): number {
  if (code === undefined || code === 1005 || code === 1006 || code === 1015) return 1000
  return code >= 1000 && code < 5000 ? code : 1000
}

/**
 * Carries messages both ways between the service's WebSocket and the consumer's. What the service
 * sends before the consumer's side is open is queued, in order, not lost.
 */
class MessageRelay {
  #consumer: WSContext | undefined
  #early: { data: Buffer | string; binary: boolean }[] = []
  #closed: { code: number; reason: string } | undefined
  #onEnd: (() => void) | undefined
  #ended = false
  #meter: ByteMeter | undefined

  constructor(private readonly upstream: WsClient) {
    upstream.on('message', (data: Buffer, isBinary: boolean) => this.#toConsumer(isBinary ? data : data.toString('utf8'), isBinary))
    upstream.on('close', (code: number, reason: Buffer) => {
      this.#closed = { code: sendableCode(code), reason: reason.toString('utf8').slice(0, 120) }
      this.#consumer?.close(this.#closed.code, this.#closed.reason)
      this.#end()
    })
    upstream.on('error', () => {
      this.#consumer?.close(1011, 'local service WebSocket error')
      this.#end()
    })
  }

  #toConsumer(data: Buffer | string, binary: boolean): void {
    if (this.#consumer === undefined) return void this.#early.push({ data, binary })
    this.#consumer.send(binary ? new Uint8Array(data as Buffer) : (data as string))
    // Counted as it passes (a message queued before the consumer's side opened, when it goes).
    this.#meter?.countIn(binary ? (data as Buffer).length : Buffer.byteLength(data as string, 'utf8'))
  }

  #end(): void {
    if (this.#ended || this.#onEnd === undefined) return
    this.#ended = true
    this.#onEnd()
  }

  /** The consumer side's events; `onEnd` runs once when either side has closed. */
  bridge(onEnd: () => void, meter?: ByteMeter): WSEvents {
    this.#onEnd = onEnd
    this.#meter = meter
    if (this.#closed !== undefined) this.#end()
    const upstream = this.upstream
    return {
      onOpen: (_evt, ws) => {
        this.#consumer = ws
        for (const m of this.#early.splice(0)) this.#toConsumer(m.data, m.binary)
        // The service hung up before the consumer's side was open: pass its close on now.
        if (this.#closed !== undefined) ws.close(this.#closed.code, this.#closed.reason)
      },
      onMessage: (evt) => {
        const data = evt.data
        const meter = this.#meter
        if (typeof data === 'string') {
          upstream.send(data)
          meter?.countOut(Buffer.byteLength(data, 'utf8'))
        } else if (data instanceof ArrayBuffer) {
          upstream.send(Buffer.from(data))
          meter?.countOut(data.byteLength)
        } else if (ArrayBuffer.isView(data)) {
          upstream.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
          meter?.countOut(data.byteLength)
        }
      },
      onClose: (evt) => {
        upstream.close(sendableCode((evt as CloseEvent).code), ((evt as CloseEvent).reason ?? '').slice(0, 120))
        this.#end()
      },
      onError: () => {
        upstream.terminate()
        this.#end()
      },
    }
  }
}
