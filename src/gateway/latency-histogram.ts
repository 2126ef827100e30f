/**
 * Upper bounds of the latency buckets, seconds: from 1 ms (a kept-alive channel on loopback) to
 * 30 minutes (a long stream); longer ones land in +Inf. Fixed, so a Prometheus query can sum
 * series across gateways and restarts.
 */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800] as const

/**
 * A Prometheus-style histogram kept as plain numbers: one count per bucket (not cumulative; the
 * last slot is +Inf), the sum and the count. Observing is a short scan and two additions, no
 * allocation: it runs once per request per histogram, and prom-client's labelled observe costs
 * several times that (metrics.ts renders these at scrape time instead).
 */
export class LatencyHistogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS_S.length + 1)
  sum = 0
  count = 0

  /** Add one observation of `seconds`. */
  observe(seconds: number): void {
    let i = 0
    while (i < LATENCY_BUCKETS_S.length && seconds > LATENCY_BUCKETS_S[i]!) i++
    this.counts[i]!++
    this.sum += seconds
    this.count++
  }

  /** Add every observation of `other` (merging windows). */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!
    this.sum += other.sum
    this.count += other.count
  }

  clear(): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }

  /**
   * The `q` quantile (0–1) in seconds, interpolated within its bucket as Prometheus'
   * histogram_quantile does; undefined when empty. A value in +Inf reports the last finite bound.
   */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined
    const rank = q * this.count
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      const n = this.counts[i]!
      if (seen + n >= rank && n > 0) {
        if (i === LATENCY_BUCKETS_S.length) return LATENCY_BUCKETS_S[i - 1]
        const lower = i === 0 ? 0 : LATENCY_BUCKETS_S[i - 1]!
        return lower + (LATENCY_BUCKETS_S[i]! - lower) * ((rank - seen) / n)
      }
      seen += n
    }
    return LATENCY_BUCKETS_S[LATENCY_BUCKETS_S.length - 1]
  }
}
