import type { Registry } from 'prom-client'
import { LATENCY_BUCKETS_S, type LatencyHistogram } from './latency-histogram.ts'

/** One labelled series of a histogram family: its labels and the histogram read at scrape time. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>
  readonly histogram: LatencyHistogram
}

/**
 * Register a histogram family on `registry` whose values are read from plain LatencyHistograms at
 * scrape time (`series()` is called once per scrape). prom-client renders it like its own
 * Histogram (`_bucket{le}` cumulative, `_sum`, `_count`); the proxy path only ever touches the
 * LatencyHistogram, never prom-client.
 */
export function registerHistogram(registry: Registry, name: string, help: string, series: () => readonly HistogramSeries[]): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = []
      for (const { labels, histogram } of series()) {
        let cumulative = 0
        for (let i = 0; i <= LATENCY_BUCKETS_S.length; i++) {
          cumulative += histogram.counts[i]!
          const le = i < LATENCY_BUCKETS_S.length ? String(LATENCY_BUCKETS_S[i]) : '+Inf'
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative })
        }
        values.push({ metricName: `${name}_sum`, labels: { ...labels }, value: histogram.sum })
        values.push({ metricName: `${name}_count`, labels: { ...labels }, value: histogram.count })
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values }
    },
  }
  // prom-client's Registry takes any object shaped like its metrics (name, help, type, get()).
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0])
}
