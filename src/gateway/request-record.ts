import type { InspectorSlot } from './inspector.ts'
import type { TrafficCounts } from './traffic.ts'

/** What the gateway ends a request with: its status (Burrow's own answers included) and, when it failed, the code. */
export interface RequestOutcome {
  readonly status: number
  /** Burrow's error code when the gateway answered itself (`upstream_unreachable`, `circuit_open`…). */
  readonly error?: string
}

/**
 * One consumer request as the gateway observes it, from arrival to the end of its body: who, what,
 * when, how it ended, and its body bytes, counted as they flow (`bytesIn`/`bytesOut` also move the
 * gateway's and the user's totals at once, so /metrics shows a stream's bytes while it runs).
 * Times are ms from `t0` (performance.now()). One per request, dropped with it: the inspector's
 * ring points at it only while it runs, then keeps a copy of its fields (inspector.ts).
 */
export class RequestRecord {
  readonly startedAt = Date.now()
  readonly t0 = performance.now()
  /** ms spent waiting in the tunnel's queue for a channel (0 when one was free; undefined: never asked for one). */
  queuedMs: number | undefined
  /** ms until the response head was handed to the consumer, once known. */
  ttfbMs: number | undefined
  /** ms from arrival to the end of the body; set when it ended. */
  durationMs = 0
  ended = false
  status = 0
  error: string | undefined
  streamed = false
  websocket = false
  conn: string | undefined
  bytesIn = 0
  bytesOut = 0
  /** Its place in the inspector's ring while it runs (observer.ts), which keeps a copy once it ends. */
  inspectorSlot: InspectorSlot | undefined = undefined
  #totals: TrafficCounts | undefined
  #user: TrafficCounts | undefined
  #connCounts: { bytesIn: number; bytesOut: number } | undefined

  constructor(
    readonly id: string,
    readonly tunnel: string,
    readonly method: string,
    /** Origin-form target for the service, as sent (the inspector removes query secrets when shown). */
    readonly target: string,
    readonly client: string | undefined,
  ) {}

  /** Count bytes into these counters too from now on (the gateway's, the user's, the connection's). */
  meterInto(totals: TrafficCounts, user: TrafficCounts, conn: { bytesIn: number; bytesOut: number }): void {
    this.#totals = totals
    this.#user = user
    this.#connCounts = conn
  }

  /** `n` response body bytes reached the consumer. */
  countIn(n: number): void {
    this.bytesIn += n
    if (this.#totals !== undefined) {
      this.#totals.bytesIn += n
      this.#user!.bytesIn += n
      this.#connCounts!.bytesIn += n
    }
  }

  /** `n` request body bytes went to the local service. */
  countOut(n: number): void {
    this.bytesOut += n
    if (this.#totals !== undefined) {
      this.#totals.bytesOut += n
      this.#user!.bytesOut += n
      this.#connCounts!.bytesOut += n
    }
  }

  /** The response head is on its way to the consumer. */
  answered(status: number, streamed: boolean): void {
    this.status = status
    this.streamed = streamed
    this.ttfbMs = performance.now() - this.t0
  }
}
