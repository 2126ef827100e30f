import type { ChannelOpener } from './channel-agent.ts'
import type { ChannelPool } from './channel-pool.ts'
import { Attempt, CONSUMER_LEFT } from './attempt.ts'

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
 * `cancel`; the hook returns how to unsubscribe.
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
    }

/**
 * One HTTP/1.1 exchange with the local service over an SSH channel, reusing an idle kept-alive
 * channel when it can (a channel open is a round trip to the agent plus a TCP connect there). The
 * request is written by request-writer.ts, the response read by response-reader.ts and handed back
 * as soon as its head is known: the body as bytes when it came with the head, else as a stream.
 * `onEnd` runs exactly once, when the exchange is over for good (body relayed, failed or cancelled).
 */
export async function exchange(pool: ChannelPool, open: ChannelOpener, req: UpstreamRequest, options: ExchangeOptions, onEnd: (end: ExchangeEnd) => void): Promise<UpstreamResult> {
  let current: Attempt | undefined
  let cancelled: string | undefined
  const unsubscribe = options.onCancel?.((reason) => {
    cancelled ??= reason
    current?.cancel(reason)
  })
  const end = (e: ExchangeEnd) => {
    unsubscribe?.()
    onEnd(e)
  }
  let body: RequestBody
  try {
    body = await prepareBody(req)
  } catch (err) {
    // A consumer that goes away mid-body makes this read throw; onEnd must still run (it frees the slot).
    end({ ok: false, bytesIn: 0, bytesOut: 0 })
    return { ok: false, code: 'upstream_unreachable', message: `the request body ended early (${(err as Error).message})`, consumerFault: true }
  }
  // A body read whole can be sent twice; a streamed one cannot, so it never rides a reused channel.
  const replayable = body.kind !== 'stream'
  for (let attempt = 0; ; attempt++) {
    if (cancelled !== undefined) {
      end({ ok: false, bytesIn: 0, bytesOut: 0 })
      return cancelled === CONSUMER_LEFT ? { ok: false, code: 'upstream_unreachable', message: cancelled, consumerFault: true } : { ok: false, code: 'upstream_unreachable', message: cancelled }
    }
    current = new Attempt(pool, open, req, body, options.timeouts, replayable && attempt === 0, options.connGone, options.meter)
    const outcome = await current.run()
    if (outcome.kind === 'done') {
      outcome.ended.then(end)
      const result = outcome.result
      if (!result.ok && cancelled === CONSUMER_LEFT) return { ...result, consumerFault: true }
      return result
    }
    // A reused channel died before any response byte: the service had just closed it. Once more, fresh.
    if (attempt > 0) {
      end({ ok: false, bytesIn: 0, bytesOut: 0 })
      return { ok: false, code: 'upstream_unreachable', message: outcome.message }
    }
  }
}

