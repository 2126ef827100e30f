/** Requests and body bytes: requests counted when they end, bytes as they flow (gateway/request-record.ts). */
export interface TrafficCounts {
  requests: number
  /** Bytes that came back from the tunnel (response bodies, upstream to consumer). */
  bytesIn: number
  /** Bytes sent into the tunnel (request bodies, consumer to upstream). */
  bytesOut: number
}

/**
 * Traffic since start, in total and per user. Per-user counts outlive the user's connections (an
 * agent that reconnects keeps its history); one small record per user ever served.
 */
export class Traffic {
  readonly total: TrafficCounts = { requests: 0, bytesIn: 0, bytesOut: 0 }
  readonly #byUser = new Map<string, TrafficCounts>()

  /** `user`'s live counts, created at zero on first use: bytes are added to them as they flow. */
  countsOf(user: string): TrafficCounts {
    let mine = this.#byUser.get(user)
    if (mine === undefined) this.#byUser.set(user, (mine = { requests: 0, bytesIn: 0, bytesOut: 0 }))
    return mine
  }

  /** One request of `user` ended (its bytes were counted as they flowed). */
  ended(user: string): void {
    this.total.requests++
    this.countsOf(user).requests++
  }

  /** One exchange of `user` ended, bytes and all: `traffic.record('alice', 512, 0)`. */
  record(user: string, bytesIn: number, bytesOut: number): void {
    const mine = this.countsOf(user)
    for (const counts of [this.total, mine]) {
      counts.requests++
      counts.bytesIn += bytesIn
      counts.bytesOut += bytesOut
    }
  }

  /** A copy of `user`'s counts (zeros if never served). */
  ofUser(user: string): TrafficCounts {
    const mine = this.#byUser.get(user)
    return mine === undefined ? { requests: 0, bytesIn: 0, bytesOut: 0 } : { ...mine }
  }

  /** Every user ever served with their counts (the live objects: read, do not change). */
  users(): IterableIterator<[string, TrafficCounts]> {
    return this.#byUser.entries()
  }
}
