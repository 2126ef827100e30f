import type { Duplex } from 'node:stream'
import { fieldValue } from './upstream-response.ts'

/** A request for the local service, as the exchange writes it onto a channel. */
export interface UpstreamRequest {
  readonly method: string
  /** Origin-form target for the local service, e.g. `/v1/chat?x=1`. */
  readonly path: string
  /** Flat [name, value, ...] list (lower-case names, latin1 values), already filtered for the next hop. */
  readonly headers: readonly string[]
  readonly body: ReadableStream<Uint8Array> | null
}

// Request bodies up to this size (with a Content-Length) are read before sending, so the exchange
// can be retried on a fresh channel if a reused one turns out dead. Bigger or unsized bodies stream
// and always get a fresh channel.
const REPLAYABLE_BODY_MAX = 64 * 1024
const CRLF = '\r\n'

/** The request body as the exchange holds it: none, read whole (replayable), or streaming. */
export type RequestBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'buffered'; readonly bytes: Uint8Array }
  | { readonly kind: 'stream'; readonly stream: ReadableStream<Uint8Array>; readonly length: string | undefined }

/**
 * Decide how to carry `req`'s body; small sized bodies are read now. Rejects when the consumer's
 * body fails while it is being read (the consumer went away mid-upload).
 */
export async function prepareBody(req: UpstreamRequest): Promise<RequestBody> {
  if (req.body === null) return { kind: 'none' }
  const declared = fieldValue(req.headers as string[], 'content-length')
  if (declared !== undefined && Number(declared) <= REPLAYABLE_BODY_MAX) return { kind: 'buffered', bytes: await readAll(req.body) }
  return { kind: 'stream', stream: req.body, length: declared }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const part of stream) {
    parts.push(part)
    size += part.byteLength
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)
}

/**
 * The request line and fields, as latin1 (header values are byte strings). The body is framed by
 * the gateway itself: Content-Length when known, chunked when not (RFC 9112 §6.1), and an explicit
 * `content-length: 0` for methods whose servers expect a body (Node's server waits otherwise).
 */
export function requestHead(req: UpstreamRequest, body: RequestBody): string {
  let head = `${req.method} ${req.path} HTTP/1.1${CRLF}`
  for (let i = 0; i < req.headers.length; i += 2) {
    const name = req.headers[i]!
    if (name === 'content-length') continue
    head += `${name}: ${req.headers[i + 1]}${CRLF}`
  }
  if (body.kind === 'buffered') head += `content-length: ${body.bytes.byteLength}${CRLF}`
  else if (body.kind === 'stream') head += body.length !== undefined ? `content-length: ${body.length}${CRLF}` : `transfer-encoding: chunked${CRLF}`
  else if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') head += `content-length: 0${CRLF}`
  return head + CRLF
}

/** Told of request body bytes as they are written. */
export interface SentBytesSink {
  sentBytes(n: number): void
}

/**
 * Write the whole request onto `channel`, counting body bytes into `sink`. A request without a
 * body or with a buffered one is written at once: undefined (no promise for the common GET). A
 * streamed body returns a promise that resolves once its last byte is written (waiting for 'drain'
 * as the channel's window asks) and rejects if the consumer's body fails or the channel closes.
 */
export function writeRequest(channel: Duplex, req: UpstreamRequest, body: RequestBody, sink: SentBytesSink): Promise<void> | undefined {
  const head = requestHead(req, body)
  if (body.kind === 'none') {
    channel.write(head, 'latin1')
    return undefined
  }
  if (body.kind === 'buffered') {
    channel.write(Buffer.concat([Buffer.from(head, 'latin1'), body.bytes]))
    sink.sentBytes(body.bytes.byteLength)
    return undefined
  }
  channel.write(head, 'latin1')
  return streamBody(channel, body, sink)
}

async function streamBody(channel: Duplex, body: Extract<RequestBody, { kind: 'stream' }>, sink: SentBytesSink): Promise<void> {
  const chunked = body.length === undefined
  const reader = body.stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      // The exchange is over (the service answered early, or failed): stop reading the consumer.
      if (channel.destroyed) {
        await reader.cancel().catch(() => {})
        throw new Error('the channel closed while sending')
      }
      if (value.byteLength === 0) continue
      sink.sentBytes(value.byteLength)
      let ok: boolean
      if (chunked) {
        channel.write(`${value.byteLength.toString(16)}${CRLF}`)
        channel.write(value)
        ok = channel.write(CRLF)
      } else ok = channel.write(value)
      if (!ok) await drained(channel)
    }
    if (chunked) channel.write(`0${CRLF}${CRLF}`)
  } finally {
    reader.releaseLock()
  }
}

function drained(channel: Duplex): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (channel.destroyed) return reject(new Error('channel closed while sending'))
    const onDrain = () => {
      channel.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      channel.off('drain', onDrain)
      reject(new Error('channel closed while sending'))
    }
    channel.once('drain', onDrain)
    channel.once('close', onClose)
  })
}
