import type { ChannelOpener } from './channel-agent.ts'
import type { ChannelPool } from './channel-pool.ts'
import { Attempt, CONSUMER_LEFT, type AttemptOwner, type Outcome } from './attempt.ts'

export { CONSUMER_LEFT } from './attempt.ts'
import { prepareBody, type RequestBody, type UpstreamRequest } from './request-writer.ts'
import type { UpstreamResponse } from './upstream-response.ts'

export type { UpstreamRequest } from './request-writer.ts'

export interface UpstreamTimeouts {
  /** ms until the response head must have arrived (504 after). */
  readonly head: number
  /** ms of silence allowed inside a streaming response body (0 = unlimited). */
  readonly idle: number
}

/**
 * Lets something outside end the exchange early (the consumer went away). The exchange passes its
 * `cancel`; the hook returns how to unsubscribe. Called at once for a request with a body, else
 * only once the head has been awaited for SLOW_MS (attempt.ts): a consumer that left sooner is
 * noticed then; after the head, a streamed body's cancel tells the exchange instead.
 */
export type CancelHook = (cancel: (reason: string) => void) => () => void

export interface ExchangeOptions {
  readonly timeouts: UpstreamTimeouts
  readonly onCancel?: CancelHook
  /**
   * Why the agent connection carrying the channels went away, or undefined while it stands. Asked
   * (not subscribed to: see gateway/live-conn.ts) when a channel ends or cannot be opened: the
   * connection ends its channels when it goes, and this says so instead of "reset".
   */
  readonly connGone?: () => string | undefined
  /**
   * Told of body bytes as they flow (response bytes as they arrive, request bytes as they are
   * written), so counters move while a long stream runs. One object per exchange; never kept.
   */
  readonly meter?: ByteMeter
}

/** Receives body byte counts as they flow. */
export interface ByteMeter {
  countIn(bytes: number): void
  countOut(bytes: number): void
}

/** How the exchange ended, reported once (to free the channel slot and count bytes). */
export interface ExchangeEnd {
  readonly ok: boolean
  /**
   * Why the response broke off after its head was relayed (the service reset the connection, the
   * agent disconnected, the consumer went away…); undefined when it ended well or never started.
   */
  readonly cut?: string
  /** Response body bytes relayed to the consumer. */
  readonly bytesIn: number
  /** Request body bytes sent to the local service. */
  readonly bytesOut: number
}

export type UpstreamResult =
  | { readonly ok: true; readonly response: UpstreamResponse }
  | {
      readonly ok: false
      readonly code: 'upstream_unreachable' | 'upstream_timeout'
      readonly message: string
      /** The consumer caused it (it left, or its request body broke off): no fault of the service or the tunnel. */
      readonly consumerFault?: true
      /**
       * The service did answer, in a form the gateway cannot relay (a malformed head, a status
       * outside 200–599): the same public code, but its answer, like a 5xx, not a failure to reach it.
       */
      readonly serviceAnswered?: true
      /**
       * The agent's connection that carried it went away (the agent stopped, crashed or lost its
       * network): the tunnel's fault, not the service's, so a circuit breaker does not count it.
       */
      readonly tunnelLost?: true
    }

/**
 * One HTTP/1.1 exchange with the local service over an SSH channel, reusing an idle kept-alive
 * channel when it can (a channel open is a round trip to the agent plus a TCP connect there). The
 * request is written by request-writer.ts, the response read by response-reader.ts and handed back
 * as soon as its head is known: the body as bytes when it came with the head, else as a stream.
 * `onEnd` runs exactly once, when the exchange is over for good (body relayed, failed or cancelled).
 * One promise per exchange (the result); attempts report by calls (docs/BENCHMARKS.md,
 * "Allocations per request").
 */
export function exchange(pool: ChannelPool, open: ChannelOpener, req: UpstreamRequest, options: ExchangeOptions, onEnd: (end: ExchangeEnd) => void): Promise<UpstreamResult> {
  return new Exchange(pool, open, req, options, onEnd).start()
}

const NO_BODY: RequestBody = { kind: 'none' }
const notGone = (): string | undefined => undefined

/** The attempts of one exchange: the first, and at most one retry on a fresh channel. */
class Exchange implements AttemptOwner {
  #current: Attempt | undefined
  #cancelled: string | undefined
  #retried = false
  #replayable = true
  #body: RequestBody = NO_BODY
  #unsubscribe: (() => void) | undefined
  #resolve!: (r: UpstreamResult) => void

  constructor(
    private readonly pool: ChannelPool,
    private readonly open: ChannelOpener,
    private readonly req: UpstreamRequest,
    private readonly options: ExchangeOptions,
    private readonly onEnd: (end: ExchangeEnd) => void,
  ) {}

  start(): Promise<UpstreamResult> {
    const result = new Promise<UpstreamResult>((r) => (this.#resolve = r))
    if (this.req.body === null) this.#next()
    else {
      // A request with a body is watched from the start: a consumer that leaves mid-upload is
      // the consumer's doing (consumerFault), not a service that could not be reached.
      this.#watch()
      prepareBody(this.req).then(
        (body) => {
          this.#body = body
          // A body read whole can be sent twice; a streamed one cannot, so it never rides a reused channel.
          this.#replayable = body.kind !== 'stream'
          this.#next()
        },
        (err: Error) => {
          // A consumer that goes away mid-body makes this read throw; onEnd must still run (it frees the slot).
          this.#end({ ok: false, bytesIn: 0, bytesOut: 0 })
          this.#resolve({ ok: false, code: 'upstream_unreachable', message: `the request body ended early (${err.message})`, consumerFault: true })
        },
      )
    }
    return result
  }

  #next(): void {
    const cancelled = this.#cancelled
    if (cancelled !== undefined) {
      this.#end({ ok: false, bytesIn: 0, bytesOut: 0 })
      return this.#resolve(cancelled === CONSUMER_LEFT ? { ok: false, code: 'upstream_unreachable', message: cancelled, consumerFault: true } : { ok: false, code: 'upstream_unreachable', message: cancelled })
    }
    const o = this.options
    const attempt = new Attempt(this, this.pool, this.open, this.req, this.#body, o.timeouts, this.#replayable && !this.#retried, o.connGone ?? notGone, o.meter)
    this.#current = attempt
    attempt.run()
  }

  settled(attempt: Attempt, outcome: Outcome): void {
    if (attempt !== this.#current) return
    if (outcome.kind === 'done') {
      const result = outcome.result
      return this.#resolve(!result.ok && this.#cancelled === CONSUMER_LEFT ? { ...result, consumerFault: true } : result)
    }
    // A reused channel died before any response byte: the service had just closed it. Once more, fresh.
    if (this.#retried) {
      this.#end({ ok: false, bytesIn: 0, bytesOut: 0 })
      return this.#resolve({ ok: false, code: 'upstream_unreachable', message: outcome.message })
    }
    this.#retried = true
    this.#next()
  }

  slow(attempt: Attempt): void {
    if (attempt === this.#current) this.#watch()
  }

  #watch(): void {
    if (this.#watching) return
    this.#watching = true
    const onCancel = this.options.onCancel
    if (onCancel === undefined) return
    this.#unsubscribe = onCancel((reason) => {
      this.#cancelled ??= reason
      this.#current?.cancel(reason)
    })
  }
  #watching = false

  ended(attempt: Attempt, end: ExchangeEnd): void {
    if (attempt === this.#current) this.#end(end)
  }

  #end(end: ExchangeEnd): void {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.onEnd(end)
  }
}
