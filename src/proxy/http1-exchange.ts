import type { Duplex } from 'node:stream'
import { HTTPParser } from 'http-parser-js'
import type { ChannelOpener } from './channel-agent.ts'
import type { ChannelPool } from './channel-pool.ts'
import { responseHeadersForConsumer } from './headers.ts'
import { assertSoundFraming, strictResponseParser } from './response-framing.ts'

export interface UpstreamRequest {
  readonly method: string
  /** Origin-form target for the local service, e.g. `/v1/chat?x=1`. */
  readonly path: string
  /** Flat [name, value, ...] list, already filtered for the next hop. */
  readonly headers: readonly string[]
  readonly body: ReadableStream<Uint8Array> | null
}

export interface UpstreamTimeouts {
  /** ms until the response head must have arrived (504 after). */
  readonly head: number
  /** ms of silence allowed inside a streaming response body (0 = unlimited). */
  readonly idle: number
}

/** How the exchange ended, reported once (to free the channel slot and count bytes). */
export interface ExchangeEnd {
  readonly ok: boolean
  readonly bytesIn: number
  readonly bytesOut: number
}

export type UpstreamResult =
  | { readonly ok: true; readonly response: Response }
  | { readonly ok: false; readonly code: 'upstream_unreachable' | 'upstream_timeout'; readonly message: string }

// Request bodies up to this size (with a Content-Length) are read before sending, so the exchange
// can be retried on a fresh channel if a reused one turns out dead. Bigger or unsized bodies stream
// and always get a fresh channel.
const RETRYABLE_BODY_MAX = 64 * 1024
const NO_BODY_STATUS = new Set([204, 304])
const CRLF = '\r\n'

type Body = { kind: 'none' } | { kind: 'buffered'; bytes: Uint8Array } | { kind: 'stream'; stream: ReadableStream<Uint8Array>; length: string | undefined }

/**
 * One HTTP/1.1 exchange with the local service over an SSH channel, reusing an idle kept-alive
 * channel when it can (a channel open is a round trip to the agent plus a TCP connect there). The
 * request head is written here; the response is parsed with http-parser-js and streamed back as
 * a web `Response`, chunk by chunk as it arrives.
 */
export async function exchange(
  pool: ChannelPool,
  open: ChannelOpener,
  req: UpstreamRequest,
  timeouts: UpstreamTimeouts,
  onEnd: (end: ExchangeEnd) => void,
): Promise<UpstreamResult> {
  let body: Body
  const declared = headerValue(req.headers, 'content-length')
  if (req.body === null) body = { kind: 'none' }
  else if (declared !== undefined && Number(declared) <= RETRYABLE_BODY_MAX) {
    // A consumer that goes away mid-body makes this read throw; onEnd must still run (it frees the slot).
    try {
      body = { kind: 'buffered', bytes: await readAll(req.body) }
    } catch (err) {
      return finishEarly(onEnd, { ok: false, code: 'upstream_unreachable', message: `the request body ended early (${(err as Error).message})` })
    }
  } else body = { kind: 'stream', stream: req.body, length: declared }

  const first = await attempt(pool, open, req, body, timeouts, body.kind !== 'stream')
  if (first.kind === 'retry') {
    // A reused channel died before any response byte: the service had just closed it. Once more, fresh.
    const second = await attempt(pool, open, req, body, timeouts, false)
    if (second.kind === 'retry') return finishEarly(onEnd, { ok: false, code: 'upstream_unreachable', message: second.message })
    return settle(second, onEnd)
  }
  return settle(first, onEnd)
}

type Attempt =
  | { kind: 'retry'; message: string }
  | { kind: 'done'; result: UpstreamResult; whenEnded: Promise<ExchangeEnd> }

function finishEarly(onEnd: (end: ExchangeEnd) => void, result: UpstreamResult): UpstreamResult {
  onEnd({ ok: false, bytesIn: 0, bytesOut: 0 })
  return result
}

function settle(a: Extract<Attempt, { kind: 'done' }>, onEnd: (end: ExchangeEnd) => void): UpstreamResult {
  a.whenEnded.then(onEnd)
  return a.result
}

function headerValue(flat: readonly string[], name: string): string | undefined {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1]
  return undefined
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

function requestHead(req: UpstreamRequest, body: Body): string {
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

function attempt(
  pool: ChannelPool,
  open: ChannelOpener,
  req: UpstreamRequest,
  body: Body,
  timeouts: UpstreamTimeouts,
  allowReuse: boolean,
): Promise<Attempt> {
  return new Promise<Attempt>((resolveAttempt) => {
    let channel: Duplex | undefined
    let reused = false
    let responded = false
    let gotBytes = false
    let requestSent = false
    let complete = false
    let finished = false
    let bytesIn = 0
    let bytesOut = 0
    let ctrl: ReadableStreamDefaultController<Uint8Array> | undefined
    let interim = false
    let pending: ResponseInit | undefined
    let early: Uint8Array[] = []
    let keepAlive = false
    let headTimer: ReturnType<typeof setTimeout> | undefined
    let idleTimer: ReturnType<typeof setTimeout> | undefined
    let resolveEnded!: (end: ExchangeEnd) => void
    const whenEnded = new Promise<ExchangeEnd>((r) => (resolveEnded = r))

    const detach = () => {
      if (channel === undefined) return
      channel.off('data', onData)
      channel.off('end', onEnd)
      channel.off('close', onClose)
      channel.off('error', onError)
    }
    const finish = (ok: boolean) => {
      if (finished) return
      finished = true
      clearTimeout(headTimer)
      clearTimeout(idleTimer)
      detach()
      if (ok && keepAlive && requestSent && channel !== undefined) pool.recycle(channel)
      else channel?.destroy()
      resolveEnded({ ok, bytesIn, bytesOut })
    }
    const fail = (message: string) => {
      if (pending !== undefined) {
        // The head was parsed but not yet handed over (the same parse call failed later): 502.
        pending = undefined
        early = []
        resolveAttempt({ kind: 'done', result: { ok: false, code: 'upstream_unreachable', message }, whenEnded })
        return finish(false)
      }
      if (!responded) {
        responded = true
        if (reused && !gotBytes && allowReuse) {
          finished = true
          clearTimeout(headTimer)
          detach()
          channel?.destroy()
          return resolveAttempt({ kind: 'retry', message })
        }
        resolveAttempt({ kind: 'done', result: { ok: false, code: 'upstream_unreachable', message }, whenEnded })
        return finish(false)
      }
      // Mid-response: error the stream so the consumer's connection is aborted, not ended cleanly.
      try {
        ctrl?.error(new Error(message))
      } catch {}
      finish(false)
    }
    const armIdle = () => {
      if (timeouts.idle <= 0) return
      clearTimeout(idleTimer)
      idleTimer = setTimeout(() => fail(`local service silent for ${timeouts.idle} ms`), timeouts.idle)
    }

    const parser = strictResponseParser()
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      const status = info.statusCode
      if (status >= 100 && status < 200) {
        // 100 Continue and friends: informational, the real head follows.
        interim = true
        return 1
      }
      responded = true
      keepAlive = info.shouldKeepAlive
      clearTimeout(headTimer)
      let headers: Headers
      try {
        assertSoundFraming(info.headers)
        headers = responseHeadersForConsumer(info.headers)
      } catch {
        resolveAttempt({ kind: 'done', result: { ok: false, code: 'upstream_unreachable', message: 'the local service sent malformed response headers' }, whenEnded })
        finish(false)
        return 1
      }
      const bodyless = req.method === 'HEAD' || NO_BODY_STATUS.has(status)
      if (bodyless) {
        resolveAttempt({ kind: 'done', result: { ok: true, response: new Response(null, { status, statusText: info.statusMessage, headers }) }, whenEnded })
        return 1
      }
      // Hold the head until this parse call ends: if the whole body is already here (the common
      // small response), answer with plain bytes, far cheaper for the runtime than a stream, and
      // the Content-Length survives on Bun. Otherwise `startStream` runs right after the call.
      pending = { status, statusText: info.statusMessage, headers }
      return 0
    }
    parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
      bytesIn += length
      armIdle()
      const bytes = chunk.subarray(offset, offset + length)
      if (pending !== undefined) return void early.push(bytes)
      if (ctrl === undefined) return
      ctrl.enqueue(bytes)
      if ((ctrl.desiredSize ?? 1) <= 0) channel?.pause()
    }
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (interim) {
        interim = false
        return
      }
      complete = true
      if (pending !== undefined) {
        const head = pending
        pending = undefined
        const body = early.length === 1 ? early[0]! : Buffer.concat(early)
        early = []
        resolveAttempt({ kind: 'done', result: { ok: true, response: new Response(body as Uint8Array<ArrayBuffer>, head) }, whenEnded })
        return finish(true)
      }
      try {
        ctrl?.close()
      } catch {}
      finish(true)
    }

    function onData(data: Buffer) {
      gotBytes = true
      if (complete) return fail('the local service sent bytes after its response')
      const r = parser.execute(data)
      if (r instanceof Error) return fail(`the local service sent a malformed response (${r.message})`)
      if (pending !== undefined) startStream()
    }
    // The body continues past this chunk: hand the consumer a stream now, seeded with what came.
    function startStream() {
      const head = pending!
      pending = undefined
      const stream = new ReadableStream<Uint8Array>(
        {
          start(c) {
            ctrl = c
            for (const bytes of early) c.enqueue(bytes)
            early = []
          },
          pull() {
            channel?.resume()
          },
          cancel() {
            finish(false)
          },
        },
        { highWaterMark: 8 },
      )
      armIdle()
      resolveAttempt({ kind: 'done', result: { ok: true, response: new Response(stream, head) }, whenEnded })
    }
    function onEnd() {
      if (complete || finished) return
      // No length and not chunked: the body runs until the service closes.
      const r = parser.finish()
      if (r instanceof Error || !complete) fail('the tunnel closed before the response was complete')
    }
    function onClose() {
      if (!complete) fail('the tunnel closed before the response was complete')
    }
    function onError(err: Error) {
      fail(`the tunnel failed (${err.message})`)
    }

    headTimer = setTimeout(() => {
      if (responded) return
      responded = true
      resolveAttempt({ kind: 'done', result: { ok: false, code: 'upstream_timeout', message: `no response head from the local service within ${timeouts.head} ms` }, whenEnded })
      finish(false)
    }, timeouts.head)

    pool.acquire(allowReuse, open).then(
      (got) => {
        if (finished) return void got.channel.destroy()
        channel = got.channel
        reused = got.reused
        channel.on('data', onData)
        channel.on('end', onEnd)
        channel.on('close', onClose)
        channel.on('error', onError)
        channel.resume()
        const head = requestHead(req, body)
        if (body.kind === 'stream') {
          channel.write(head, 'latin1')
          pump(channel, body.stream, body.length === undefined, (n) => (bytesOut += n)).then(
            () => (requestSent = true),
            (err: Error) => fail(`could not send the request body (${err.message})`),
          )
        } else {
          if (body.kind === 'buffered') {
            channel.write(Buffer.concat([Buffer.from(head, 'latin1'), body.bytes]))
            bytesOut += body.bytes.byteLength
          } else channel.write(head, 'latin1')
          requestSent = true
        }
      },
      (err: Error) => {
        if (finished) return
        responded = true
        resolveAttempt({
          kind: 'done',
          result: { ok: false, code: 'upstream_unreachable', message: `the agent could not reach its local service (${err.message})` },
          whenEnded,
        })
        finish(false)
      },
    )
  })
}

/** Stream the consumer's body into the channel, waiting for 'drain'; chunked framing when unsized. */
async function pump(channel: Duplex, body: ReadableStream<Uint8Array>, chunked: boolean, count: (n: number) => void): Promise<void> {
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (value.byteLength === 0) continue
      count(value.byteLength)
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
