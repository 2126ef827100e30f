import { Inspector } from './inspector.ts'
import { LatencyHistogram } from './latency-histogram.ts'
import { RateTimeline } from './rate-timeline.ts'
import type { RequestRecord } from './request-record.ts'

/** Status classes of `burrow_request_duration_seconds`, by first digit (1xx is a WebSocket's 101). */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/**
 * What the gateway learns from each request as it ends: latency histograms for /metrics (by
 * status class and whether the body streamed; time to first byte; queue wait), the 15-minute
 * timeline the dashboard draws, and the inspector's last 100 requests per tunnel. With
 * `enabled` false (REQUEST_METRICS=0) none of that is kept: the bench's "before" (README).
 * Open streams are counted either way (they cost two additions).
 */
export class Observer {
  /** Indexed by status class (0–4) × 2 + streamed (0/1). */
  readonly duration: readonly LatencyHistogram[] = Array.from({ length: STATUS_CLASSES.length * 2 }, () => new LatencyHistogram())
  readonly ttfb = new LatencyHistogram()
  readonly queueWait = new LatencyHistogram()
  readonly timeline = new RateTimeline()
  readonly inspector = new Inspector()
  /** Response bodies streaming and consumer WebSockets open right now. */
  readonly openStreams = { http: 0, websocket: 0 }

  constructor(readonly enabled: boolean) {}

  /** A request to an existing tunnel began: the inspector shows it from now on. */
  begin(record: RequestRecord): void {
    if (this.enabled) record.inspectorSlot = this.inspector.add(record)
  }

  /** `record`'s response head is on its way (record.answered): a streamed body or a WebSocket counts as open until it ends. */
  answered(record: RequestRecord, status: number, streamed: boolean): void {
    record.answered(status, streamed)
    if (streamed) this.openStreams[record.websocket ? 'websocket' : 'http']++
  }

  /** `record` ended (its status and bytes are final): fix its duration and count it. */
  finish(record: RequestRecord): void {
    if (record.ended) return
    record.ended = true
    if (record.streamed) this.openStreams[record.websocket ? 'websocket' : 'http']--
    record.durationMs = performance.now() - record.t0
    if (!this.enabled) return
    if (record.inspectorSlot !== undefined) {
      this.inspector.end(record, record.inspectorSlot)
      record.inspectorSlot = undefined
    }
    const seconds = record.durationMs / 1000
    const cls = Math.min(Math.max(Math.floor(record.status / 100), 1), 5) - 1
    this.duration[cls * 2 + (record.streamed ? 1 : 0)]!.observe(seconds)
    if (record.ttfbMs !== undefined) this.ttfb.observe(record.ttfbMs / 1000)
    if (record.queuedMs !== undefined) this.queueWait.observe(record.queuedMs / 1000)
    this.timeline.record(record.startedAt + record.durationMs, seconds, record.status)
  }
}
