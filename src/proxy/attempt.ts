import type { Duplex } from 'node:stream'
import type { ChannelOpener } from './channel-agent.ts'
import type { ChannelPool } from './channel-pool.ts'
import type { ByteMeter, ExchangeEnd, UpstreamResult, UpstreamTimeouts } from './exchange.ts'
import { writeRequest, type RequestBody, type UpstreamRequest } from './request-writer.ts'
import { ResponseReader, type ResponseHead } from './response-reader.ts'
import type { FieldList, InterimResponse, UpstreamResponse } from './upstream-response.ts'

/**
 * The reason an exchange ends with when its consumer left: the consumer's connection closed (the
 * cancel hook) or it cancelled the response body stream (what Bun, Deno and Node do when a consumer
 * disconnects mid-body). Compare an ExchangeEnd's `cut` or a result's `message` with it.
 */
export const CONSUMER_LEFT = 'the consumer went away'

/** How one attempt ended: retry on a fresh channel, or done with its result and the end of its body. */
export type Outcome = { kind: 'retry'; message: string } | { kind: 'done'; result: UpstreamResult; ended: Promise<ExchangeEnd> }

/**
 * Where one attempt stands. `opening`: waiting for a channel. `waiting`: the request is on its way,
 * no head yet. `streaming`: the consumer has the head and a body stream. `over`: nothing left to do.
 */
type Phase = 'opening' | 'waiting' | 'streaming' | 'over'

/** One try on one channel, with one explicit phase instead of a flag per question. */
export class Attempt {
  #phase: Phase = 'opening'
  #channel: Duplex | undefined
  #reused = false
  #gotBytes = false
  #eof = false
  #held = false
  #requestSent = false
  #bytesIn = 0
  #bytesOut = 0
  #head: ResponseHead | undefined
  #early: Uint8Array[] = []
  #interim: InterimResponse[] = []
  #ctrl: ReadableStreamDefaultController<Uint8Array> | undefined
  #headTimer: ReturnType<typeof setTimeout> | undefined
  #idleTimer: ReturnType<typeof setTimeout> | undefined
  #settle!: (o: Outcome) => void
  #endWith!: (e: ExchangeEnd) => void
  #trailers: { resolve: (t: FieldList) => void; reject: (e: Error) => void; promise: Promise<FieldList> }
  readonly #ended: Promise<ExchangeEnd>
  readonly #reader: ResponseReader

  constructor(
    private readonly pool: ChannelPool,
    private readonly open: ChannelOpener,
    private readonly req: UpstreamRequest,
    private readonly body: RequestBody,
    private readonly timeouts: UpstreamTimeouts,
    private readonly allowReuse: boolean,
    private readonly connGone: () => string | undefined = () => undefined,
    private readonly meter?: ByteMeter,
  ) {
    this.#ended = new Promise((r) => (this.#endWith = r))
    this.#trailers = deferred<FieldList>()
    this.#reader = new ResponseReader(req.method, {
      interim: (status, headers) => void this.#interim.push({ status, headers }),
      head: (head) => this.#onHead(head),
      body: (bytes) => this.#onBody(bytes),
      complete: (trailers) => this.#trailers.resolve(trailers),
    })
  }

  run(): Promise<Outcome> {
    const outcome = new Promise<Outcome>((r) => (this.#settle = r))
    this.#armHead()
    this.pool.acquire(this.allowReuse, this.open).then(
      (got) => this.#onChannel(got.channel, got.reused),
      (err: Error) => {
        const gone = this.connGone()
        this.#fail(gone ?? `the agent could not reach its local service (${err.message})`, { noRetry: gone !== undefined })
      },
    )
    return outcome
  }

  /** End early from outside (consumer gone, agent connection lost): 502 before the head, abort after. */
  cancel(reason: string): void {
    this.#fail(reason, { noRetry: true })
  }

  #onChannel(channel: Duplex, reused: boolean): void {
    if (this.#phase === 'over') return void channel.destroy()
    this.#channel = channel
    this.#reused = reused
    this.#phase = 'waiting'
    channel.on('data', this.#onData)
    channel.on('end', this.#onEnd)
    channel.on('close', this.#onClose)
    channel.on('error', this.#onError)
    channel.resume()
    // The head timeout counts the service's thinking, not the consumer's upload: it stops while the
    // request body goes out and starts again once it is all sent.
    clearTimeout(this.#headTimer)
    writeRequest(channel, this.req, this.body, (n) => {
      this.#bytesOut += n
      this.meter?.countOut(n)
    }).then(
      () => {
        this.#requestSent = true
        if (this.#head === undefined && this.#phase === 'waiting') this.#armHead()
      },
      (err: Error) => this.#fail(`could not send the request body (${err.message})`),
    )
  }

  #armHead(): void {
    clearTimeout(this.#headTimer)
    this.#headTimer = setTimeout(() => this.#timeout(), this.timeouts.head)
  }

  readonly #onData = (data: Buffer): void => {
    this.#gotBytes = true
    const malformed = this.#reader.push(data)
    // The service answered, only not in a form the gateway can relay: a 502, but its own answer (a
    // circuit breaker counts it like a 5xx, not as the service being unreachable).
    if (malformed !== undefined) return this.#fail(`the local service sent a malformed response: ${malformed}`, { noRetry: true, answered: true })
    if (this.#phase === 'waiting' && this.#head !== undefined) this.#answer()
    if (this.#reader.state === 'complete') this.#finish(true)
  }

  readonly #onEnd = (): void => {
    // ssh2 ends a channel's stream on CLOSE too (and on its connection's end): only EOF says the
    // service finished sending.
    if (closedWithoutEof(this.#channel) || this.connGone() !== undefined) return this.#onClose()
    this.#eof = true
    const cut = this.#reader.end()
    if (cut !== undefined) this.#fail(cut)
    else if (this.#phase === 'waiting' && this.#head !== undefined) this.#answer()
    if (this.#reader.state === 'complete') this.#finish(true)
  }

  // A channel closed without EOF: the agent's socket to the service failed (a reset), or the
  // agent dropped the channel; a clean close of the service's side arrives as 'end' first.
  readonly #onClose = (): void => {
    if (this.#reader.state === 'complete') return
    const gone = this.connGone()
    if (gone !== undefined) return this.#fail(gone, { noRetry: true })
    if (this.#eof) return this.#fail('the tunnel closed before the response was complete')
    this.#fail(this.#reader.state === 'head' ? 'the local service reset the connection' : 'the local service reset the connection before the response was complete')
  }

  readonly #onError = (err: Error): void => {
    const gone = this.connGone()
    this.#fail(gone ?? `the tunnel failed (${err.message})`, { noRetry: gone !== undefined })
  }

  #onHead(head: ResponseHead): void {
    clearTimeout(this.#headTimer)
    this.#head = head
  }

  #onBody(bytes: Uint8Array): void {
    this.#bytesIn += bytes.byteLength
    this.meter?.countIn(bytes.byteLength)
    if (this.#phase !== 'streaming') return void this.#early.push(bytes)
    const ctrl = this.#ctrl!
    ctrl.enqueue(bytes)
    if ((ctrl.desiredSize ?? 1) <= 0) {
      // The consumer is not reading: hold the service back, and do not count this as its silence.
      this.#channel?.pause()
      clearTimeout(this.#idleTimer)
      this.#held = true
    } else this.#armIdle()
  }

  /** The consumer read: let the service send again, and time its silence from now. */
  #pull(): void {
    this.#channel?.resume()
    if (this.#held) {
      this.#held = false
      if (this.#phase === 'streaming') this.#armIdle()
    }
  }

  /**
   * The head is known and this read is done: hand the consumer the response. When the whole body
   * came along (the common small answer), as plain bytes — far cheaper for a runtime than a stream,
   * and its Content-Length survives on Bun — otherwise as a stream seeded with what arrived.
   */
  #answer(): void {
    const head = this.#head!
    let body: UpstreamResponse['body']
    if (head.bodyless) body = null
    else if (this.#reader.state === 'complete') body = this.#early.length === 1 ? this.#early[0]! : Buffer.concat(this.#early)
    else {
      this.#phase = 'streaming'
      const early = this.#early
      body = new ReadableStream<Uint8Array>(
        {
          start: (c) => {
            this.#ctrl = c
            for (const bytes of early) c.enqueue(bytes)
          },
          pull: () => this.#pull(),
          cancel: () => this.#fail(CONSUMER_LEFT, { noRetry: true }),
        },
        { highWaterMark: 8 },
      )
      this.#armIdle()
    }
    this.#early = []
    if (this.#phase !== 'streaming') this.#phase = 'over'
    this.#settle({
      kind: 'done',
      result: { ok: true, response: { status: head.status, statusText: head.statusText, headers: head.headers, body, interim: this.#interim, trailers: this.#trailers.promise } },
      ended: this.#ended,
    })
  }

  #armIdle(): void {
    if (this.timeouts.idle <= 0) return
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => this.#fail(`local service silent for ${this.timeouts.idle} ms`), this.timeouts.idle)
  }

  #timeout(): void {
    if (this.#head !== undefined) return
    this.#settleFailure('upstream_timeout', `no response head from the local service within ${this.timeouts.head} ms`)
  }

  /**
   * Something went wrong. Before the head: a reused channel that died without a byte is retried
   * (once, by the caller), anything else is a 502. After it: the body stream errors, so the
   * consumer's connection is aborted rather than ended as if complete.
   */
  #fail(message: string, opts: { noRetry?: boolean; answered?: boolean } = {}): void {
    if (this.#phase === 'over' && this.#reader.state === 'complete') return this.#finish(true)
    if (this.#phase === 'streaming') {
      // Errored without a reason: Bun's and Deno's servers print a body stream's error (with its
      // stack, outside the JSON log) once per request, a log flood any local service could cause.
      // The reason travels in ExchangeEnd.cut instead.
      try {
        this.#ctrl?.error(undefined)
      } catch {}
      return this.#finish(false, message)
    }
    if (this.#phase === 'over') return this.#finish(false)
    if (this.#reused && !this.#gotBytes && this.allowReuse && opts.noRetry !== true) {
      this.#phase = 'over'
      clearTimeout(this.#headTimer)
      this.#detach()
      this.#channel?.destroy()
      this.#trailers.promise.catch(() => {})
      return this.#settle({ kind: 'retry', message })
    }
    this.#settleFailure('upstream_unreachable', message, opts.answered === true)
  }

  #settleFailure(code: 'upstream_unreachable' | 'upstream_timeout', message: string, answered = false): void {
    if (this.#phase === 'over' || this.#phase === 'streaming') return
    this.#phase = 'over'
    this.#settle({ kind: 'done', result: answered ? { ok: false, code, message, serviceAnswered: true } : { ok: false, code, message }, ended: this.#ended })
    this.#finish(false)
  }

  /** Release the channel (back to the pool after a clean kept-alive exchange) and report the end once. */
  #finish(ok: boolean, cut?: string): void {
    if (this.#finished) return
    this.#finished = true
    clearTimeout(this.#headTimer)
    clearTimeout(this.#idleTimer)
    if (this.#phase === 'streaming' && ok) {
      try {
        this.#ctrl?.close()
      } catch {}
    }
    this.#phase = 'over'
    this.#detach()
    const channel = this.#channel
    if (ok && this.#head?.keepAlive === true && this.#requestSent && this.#reader.cleanEnd && channel !== undefined) this.pool.recycle(channel, this.#head.keepAliveMs)
    else channel?.destroy()
    if (!ok) this.#trailers.reject(new Error('the response failed'))
    this.#trailers.promise.catch(() => {})
    this.#endWith(cut === undefined ? { ok, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut } : { ok, cut, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut })
  }
  #finished = false

  #detach(): void {
    const ch = this.#channel
    if (ch === undefined) return
    ch.off('data', this.#onData)
    ch.off('end', this.#onEnd)
    ch.off('close', this.#onClose)
    ch.off('error', this.#onError)
  }
}

/** The peer sent CHANNEL_CLOSE without CHANNEL_EOF (ssh2 marks the channel's incoming side 'closed'). */
function closedWithoutEof(channel: Duplex | undefined): boolean {
  return (channel as { incoming?: { state?: string } } | undefined)?.incoming?.state === 'closed'
}

function deferred<T>(): { resolve: (v: T) => void; reject: (e: Error) => void; promise: Promise<T> } {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { resolve, reject, promise }
}
