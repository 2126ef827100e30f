import type { Duplex } from 'node:stream'
import type { ChannelOpener } from './channel-agent.ts'
import type { ChannelPool } from './channel-pool.ts'
import type { ByteMeter, ExchangeEnd, UpstreamResult, UpstreamTimeouts } from './exchange.ts'
import { writeRequest, type RequestBody, type UpstreamRequest } from './request-writer.ts'
import { ResponseReader, type ResponseEvents, type ResponseHead } from './response-reader.ts'
import type { FieldList, InterimResponse, UpstreamResponse } from './upstream-response.ts'

/**
 * The reason an exchange ends with when its consumer left: the consumer's connection closed (the
 * cancel hook) or it cancelled the response body stream (what Bun, Deno and Node do when a consumer
 * disconnects mid-body). Compare an ExchangeEnd's `cut` or a result's `message` with it.
 */
export const CONSUMER_LEFT = 'the consumer went away'

/** How one attempt ended: retry on a fresh channel, or done with its result (the end of its body is reported apart). */
export type Outcome = { kind: 'retry'; message: string } | { kind: 'done'; result: UpstreamResult }

/** Who runs an attempt: told its outcome once, and later, once, how the exchange ended. */
export interface AttemptOwner {
  settled(attempt: Attempt, outcome: Outcome): void
  ended(attempt: Attempt, end: ExchangeEnd): void
  /** The head has been awaited for SLOW_MS: from now on, watch for the consumer leaving. */
  slow(attempt: Attempt): void
}

/**
 * ms a response head may take before the exchange starts watching its consumer (most answers come
 * sooner, and watching costs a runtime's abort signal per request: docs/BENCHMARKS.md, "Allocations
 * per request"). A consumer that left earlier is noticed at this mark.
 */
export const SLOW_MS = 100

/**
 * Where one attempt stands. `opening`: waiting for a channel. `waiting`: the request is on its way,
 * no head yet. `streaming`: the consumer has the head and a body stream. `over`: nothing left to do.
 */
type Phase = 'opening' | 'waiting' | 'streaming' | 'over'

const NO_INTERIM: readonly InterimResponse[] = []
const EMPTY_BODY = new Uint8Array(0)
/** The attempt a channel is serving, for the listeners below (one set for every channel, no closures). */
const ATTEMPT = Symbol('burrow.attempt')
type Served = Duplex & { [ATTEMPT]?: Attempt }
const NO_TRAILERS: Promise<FieldList> = Promise.resolve([])

/**
 * One try on one channel, with one explicit phase instead of a flag per question. It reports to its
 * owner through calls, not promises, and is the reader's event sink itself: a small GET costs a
 * handful of objects (docs/BENCHMARKS.md, "Allocations per request").
 */
export class Attempt implements ResponseEvents {
  #phase: Phase = 'opening'
  #channel: Duplex | undefined
  #reused = false
  #gotBytes = false
  #eof = false
  #held = false
  #requestSent = false
  #finished = false
  #bytesIn = 0
  #bytesOut = 0
  #head: ResponseHead | undefined
  #early: Uint8Array | Uint8Array[] | undefined
  #interim: InterimResponse[] | undefined
  #ctrl: ReadableStreamDefaultController<Uint8Array> | undefined
  #headTimer: ReturnType<typeof setTimeout> | undefined
  /** The head timer's first mark is SLOW_MS (the owner is told), then the rest of the head timeout. */
  #slowMarked = false
  #idleTimer: ReturnType<typeof setTimeout> | undefined
  /** A streamed body's trailers, promised to the consumer and settled when the body ends. */
  #trailers: { resolve: (t: FieldList) => void; reject: (e: Error) => void } | undefined
  /** The trailers, once the response is complete. */
  #finalTrailers: FieldList | undefined
  readonly #reader: ResponseReader

  constructor(
    private readonly owner: AttemptOwner,
    private readonly pool: ChannelPool,
    private readonly open: ChannelOpener,
    private readonly req: UpstreamRequest,
    private readonly requestBody: RequestBody,
    private readonly timeouts: UpstreamTimeouts,
    private readonly allowReuse: boolean,
    private readonly connGone: () => string | undefined,
    private readonly meter: ByteMeter | undefined,
  ) {
    this.#reader = new ResponseReader(req.method, this)
  }

  /** Take an idle kept-alive channel or open one (the head timeout bounds the opening too). */
  run(): void {
    const idle = this.allowReuse ? this.pool.take() : undefined
    if (idle !== undefined) return this.#onChannel(idle, true)
    this.#armHead()
    this.open((err, channel) => {
      if (err === undefined && channel !== undefined) return this.#onChannel(channel, false)
      const gone = this.connGone()
      this.#fail(gone ?? `the agent could not reach its local service (${err?.message ?? 'channel refused'})`, { noRetry: gone !== undefined })
    })
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
    ;(channel as Served)[ATTEMPT] = this
    channel.on('data', onChannelData)
    channel.on('end', onChannelEnd)
    channel.on('close', onChannelClose)
    channel.on('error', onChannelError)
    channel.resume()
    // The head timeout counts the service's thinking, not the consumer's upload: it starts once the
    // request is all sent (at once for a request without a body or with a small one).
    clearTimeout(this.#headTimer)
    const sending = writeRequest(channel, this.req, this.requestBody, this)
    if (sending === undefined) return this.#sent()
    sending.then(
      () => this.#sent(),
      (err: Error) => this.#fail(`could not send the request body (${err.message})`),
    )
  }

  #sent(): void {
    this.#requestSent = true
    if (this.#head === undefined && this.#phase === 'waiting') this.#armHead()
  }

  /** @internal writeRequest's sink: `n` request body bytes went to the service. */
  sentBytes(n: number): void {
    this.#bytesOut += n
    this.meter?.countOut(n)
  }

  #armHead(): void {
    clearTimeout(this.#headTimer)
    const head = this.timeouts.head
    if (this.#slowMarked || head <= SLOW_MS) this.#headTimer = setTimeout(Attempt.#headTimedOut, head, this)
    else this.#headTimer = setTimeout(Attempt.#slowMark, SLOW_MS, this)
  }

  /** @internal The channel's listener (see below). */
  onData(data: Buffer): void {
    this.#gotBytes = true
    const malformed = this.#reader.push(data)
    // The service answered, only not in a form the gateway can relay: a 502, but its own answer (a
    // circuit breaker counts it like a 5xx, not as the service being unreachable).
    if (malformed !== undefined) return this.#fail(`the local service sent a malformed response: ${malformed}`, { noRetry: true, answered: true })
    if (this.#phase === 'waiting' && this.#head !== undefined) this.#answer()
    if (this.#reader.state === 'complete') this.#finish(true)
  }

  /** @internal The channel's listener (see below). */
  onEnd(): void {
    // ssh2 ends a channel's stream on CLOSE too (and on its connection's end): only EOF says the
    // service finished sending.
    if (closedWithoutEof(this.#channel) || this.connGone() !== undefined) return this.onClose()
    this.#eof = true
    const cut = this.#reader.end()
    if (cut !== undefined) this.#fail(cut)
    else if (this.#phase === 'waiting' && this.#head !== undefined) this.#answer()
    if (this.#reader.state === 'complete') this.#finish(true)
  }

  // A channel closed without EOF: the agent's socket to the service failed (a reset), or the
  // agent dropped the channel; a clean close of the service's side arrives as 'end' first.
  /** @internal The channel's listener (see below). */
  onClose(): void {
    if (this.#reader.state === 'complete') return
    const gone = this.connGone()
    if (gone !== undefined) return this.#fail(gone, { noRetry: true })
    if (this.#eof) return this.#fail('the tunnel closed before the response was complete')
    this.#fail(this.#reader.state === 'head' ? 'the local service reset the connection' : 'the local service reset the connection before the response was complete')
  }

  /** @internal The channel's listener (see below). */
  onError(err: Error): void {
    const gone = this.connGone()
    this.#fail(gone ?? `the tunnel failed (${err.message})`, { noRetry: gone !== undefined })
  }

  /** @internal ResponseEvents: an informational (1xx) head to pass on before the final one. */
  interim(status: number, headers: FieldList): void {
    ;(this.#interim ??= []).push({ status, headers })
  }

  /** @internal ResponseEvents: the final head. */
  head(head: ResponseHead): void {
    clearTimeout(this.#headTimer)
    this.#head = head
  }

  /** @internal ResponseEvents: body bytes, held until the head is handed over, then streamed. */
  body(bytes: Uint8Array): void {
    this.#bytesIn += bytes.byteLength
    this.meter?.countIn(bytes.byteLength)
    if (this.#phase !== 'streaming') {
      const early = this.#early
      if (early === undefined) this.#early = bytes
      else if (Array.isArray(early)) early.push(bytes)
      else this.#early = [early, bytes]
      return
    }
    const ctrl = this.#ctrl!
    ctrl.enqueue(bytes)
    if ((ctrl.desiredSize ?? 1) <= 0) {
      // The consumer is not reading: hold the service back, and do not count this as its silence.
      this.#channel?.pause()
      clearTimeout(this.#idleTimer)
      this.#held = true
    } else this.#armIdle()
  }

  /** @internal ResponseEvents: the response is complete, with a chunked body's trailers. */
  complete(trailers: FieldList): void {
    this.#trailers?.resolve(trailers)
    this.#trailers = undefined
    this.#finalTrailers = trailers
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
    const early = this.#early
    this.#early = undefined
    let body: UpstreamResponse['body']
    let trailers: Promise<FieldList>
    if (head.bodyless || this.#reader.state === 'complete') {
      // Complete with its head: bytes, and trailers already known (none, the common case, shares one promise).
      if (head.bodyless) body = null
      else body = early === undefined ? EMPTY_BODY : Array.isArray(early) ? Buffer.concat(early) : early
      const known = this.#finalTrailers
      trailers = known === undefined || known.length === 0 ? NO_TRAILERS : Promise.resolve(known)
      this.#phase = 'over'
    } else {
      this.#phase = 'streaming'
      body = new ReadableStream<Uint8Array>(
        {
          start: (c) => {
            this.#ctrl = c
            if (Array.isArray(early)) for (const bytes of early) c.enqueue(bytes)
            else if (early !== undefined) c.enqueue(early)
          },
          pull: () => this.#pull(),
          cancel: () => this.#fail(CONSUMER_LEFT, { noRetry: true }),
        },
        { highWaterMark: 8 },
      )
      this.#armIdle()
      trailers = new Promise<FieldList>((resolve, reject) => (this.#trailers = { resolve, reject }))
      trailers.catch(() => {})
    }
    const response: UpstreamResponse = { status: head.status, statusText: head.statusText, headers: head.headers, body, interim: this.#interim ?? NO_INTERIM, trailers }
    this.owner.settled(this, { kind: 'done', result: { ok: true, response } })
  }

  #armIdle(): void {
    if (this.timeouts.idle <= 0) return
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(Attempt.#idleTimedOut, this.timeouts.idle, this)
  }

  // Timers get the attempt as their argument: no closure per timer.
  static #idleTimedOut(a: Attempt): void {
    a.#fail(`local service silent for ${a.timeouts.idle} ms`)
  }

  static #slowMark(a: Attempt): void {
    if (a.#head !== undefined || a.#phase === 'over') return
    a.#slowMarked = true
    a.#headTimer = setTimeout(Attempt.#headTimedOut, a.timeouts.head - SLOW_MS, a)
    a.owner.slow(a)
  }

  static #headTimedOut(a: Attempt): void {
    if (a.#head !== undefined) return
    a.#settleFailure('upstream_timeout', `no response head from the local service within ${a.timeouts.head} ms`)
  }

  /**
   * Something went wrong. Before the head: a reused channel that died without a byte is retried
   * (once, by the owner), anything else is a 502. After it: the body stream errors, so the
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
      this.#finished = true
      clearTimeout(this.#headTimer)
      this.#detach()
      this.#channel?.destroy()
      return this.owner.settled(this, { kind: 'retry', message })
    }
    this.#settleFailure('upstream_unreachable', message, opts.answered === true)
  }

  #settleFailure(code: 'upstream_unreachable' | 'upstream_timeout', message: string, answered = false): void {
    if (this.#phase === 'over' || this.#phase === 'streaming') return
    this.#phase = 'over'
    const result: UpstreamResult = answered ? { ok: false, code, message, serviceAnswered: true } : this.connGone() !== undefined ? { ok: false, code, message, tunnelLost: true } : { ok: false, code, message }
    this.owner.settled(this, { kind: 'done', result })
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
    if (!ok) this.#trailers?.reject(new Error('the response failed'))
    this.#trailers = undefined
    this.owner.ended(this, cut === undefined ? { ok, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut } : { ok, cut, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut })
  }

  #detach(): void {
    const ch = this.#channel
    if (ch === undefined) return
    ch.off('data', onChannelData)
    ch.off('end', onChannelEnd)
    ch.off('close', onChannelClose)
    ch.off('error', onChannelError)
    ;(ch as Served)[ATTEMPT] = undefined
  }
}

/** The peer sent CHANNEL_CLOSE without CHANNEL_EOF (ssh2 marks the channel's incoming side 'closed'). */
function closedWithoutEof(channel: Duplex | undefined): boolean {
  return (channel as { incoming?: { state?: string } } | undefined)?.incoming?.state === 'closed'
}

// One set of listeners for every channel; `this` is the channel (EventEmitter's rule).
function onChannelData(this: Served, data: Buffer): void {
  this[ATTEMPT]?.onData(data)
}
function onChannelEnd(this: Served): void {
  this[ATTEMPT]?.onEnd()
}
function onChannelClose(this: Served): void {
  this[ATTEMPT]?.onClose()
}
function onChannelError(this: Served, err: Error): void {
  this[ATTEMPT]?.onError(err)
}
