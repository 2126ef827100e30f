import { LatencyHistogram } from './latency-histogram.ts'

/** Width of one slot of the timeline, ms. */
export const SLOT_MS = 10_000
/** Slots kept: 15 minutes. */
export const SLOTS = 90

/** One slot of the timeline as the dashboard reads it. */
export interface TimelinePoint {
  /** Start of the slot, ms since the epoch. */
  readonly at: number
  readonly requests: number
  /** Requests answered with a 5xx (the service's or Burrow's own). */
  readonly errors: number
}

/**
 * Requests, 5xx answers and latencies of the whole gateway over the last 15 minutes, in 10-second
 * slots of a fixed ring (bounded memory, no allocation per request). The dashboard draws rates
 * from it and reads p50/p99 of the last minutes.
 */
export class RateTimeline {
  readonly #requests = new Float64Array(SLOTS)
  readonly #errors = new Float64Array(SLOTS)
  readonly #latency = Array.from({ length: SLOTS }, () => new LatencyHistogram())
  /** Slot number (ms / SLOT_MS) of the newest slot written. */
  #head = -1

  /** A request that ended at `now` (ms since the epoch), after `seconds`, with `status`. */
  record(now: number, seconds: number, status: number): void {
    const i = this.#advance(now)
    this.#requests[i]!++
    if (status >= 500) this.#errors[i]!++
    this.#latency[i]!.observe(seconds)
  }

  /** The last `slots` slots up to `now`, oldest first (empty slots included, as zeros). */
  points(now: number, slots = SLOTS): TimelinePoint[] {
    this.#advance(now)
    const out: TimelinePoint[] = []
    for (let k = Math.min(slots, SLOTS) - 1; k >= 0; k--) {
      const slot = this.#head - k
      const i = ((slot % SLOTS) + SLOTS) % SLOTS
      out.push({ at: slot * SLOT_MS, requests: this.#requests[i]!, errors: this.#errors[i]! })
    }
    return out
  }

  /** The latency histogram of the last `slots` slots up to `now`, merged. */
  latency(now: number, slots: number): LatencyHistogram {
    this.#advance(now)
    const merged = new LatencyHistogram()
    for (let k = 0; k < Math.min(slots, SLOTS); k++) merged.add(this.#latency[(((this.#head - k) % SLOTS) + SLOTS) % SLOTS]!)
    return merged
  }

  /** Move the head to `now`'s slot, clearing the slots passed over; returns its index. */
  #advance(now: number): number {
    const slot = Math.floor(now / SLOT_MS)
    if (slot > this.#head) {
      const from = this.#head < 0 ? slot : Math.max(this.#head + 1, slot - SLOTS + 1)
      for (let s = from; s <= slot; s++) {
        const i = s % SLOTS
        this.#requests[i] = 0
        this.#errors[i] = 0
        this.#latency[i]!.clear()
      }
      this.#head = slot
    }
    return ((this.#head % SLOTS) + SLOTS) % SLOTS
  }
}
