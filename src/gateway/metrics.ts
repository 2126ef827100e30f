import type { Registry } from 'prom-client'
import { registerHistogram } from './metric-histograms.ts'
import { STATUS_CLASSES } from './observer.ts'
import type { GatewayServices } from './services.ts'
import { userLabels } from './user-labels.ts'

/** A Prometheus text exposition of one gateway, rendered on demand. */
export interface MetricsExporter {
  readonly contentType: string
  render(): Promise<string>
}

/**
 * Build the gateway's metrics on its own prom-client Registry (never the global default one: two
 * gateways in one process must not share counters). Every value is read from the gateway at scrape
 * time, so the proxy path does no prom-client work (it adds to plain numbers: gateway/observer.ts,
 * request-record.ts). prom-client is imported on the first scrape only. Per-user series carry a
 * `user` label for the METRICS_TOP_USERS busiest users (by requests) and `_other` for the rest,
 * or every user with METRICS_PER_USER (README "Metrics").
 */
export async function createMetrics(svc: GatewayServices): Promise<MetricsExporter> {
  const { Counter, Gauge, Registry } = (await import('prom-client')).default
  const registry: Registry = new Registry()
  const registers = [registry]
  // Several instances (REDIS_URL): every series names its instance. Not `instance`, which
  // Prometheus sets to the scrape target itself.
  if (svc.cluster !== undefined) registry.setDefaultLabels({ burrow_instance: svc.cluster.instanceId })
  const stats = () => svc.registry.stats()

  new Gauge({
    name: 'burrow_uptime_seconds',
    help: 'Seconds since the gateway was created.',
    registers,
    collect() {
      this.set((Date.now() - svc.startedAt) / 1000)
    },
  })
  new Gauge({
    name: 'burrow_draining',
    help: '1 while the gateway drains for shutdown, else 0.',
    registers,
    collect() {
      this.set(svc.isDraining() ? 1 : 0)
    },
  })
  new Gauge({
    name: 'burrow_inflight_requests',
    help: 'Consumer requests being proxied or queued right now.',
    registers,
    collect() {
      this.set(svc.inflight.count)
    },
  })
  new Gauge({
    name: 'burrow_agent_connections',
    help: 'Agent transport connections open, including ones not yet serving a tunnel.',
    registers,
    collect() {
      this.set(stats().connections)
    },
  })
  const labelOf = () => userLabels(svc.registry.traffic.users(), svc.config.metricsPerUser ? Infinity : svc.config.metricsTopUsers)
  const perUser = (name: string, help: string, pick: (u: ReturnType<typeof stats>['users'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['user'] as const,
      registers,
      collect() {
        // Reset first: a user whose last connection went away must disappear, not linger at its last value.
        this.reset()
        const label = labelOf()
        for (const u of stats().users) this.inc({ user: label(u.user) }, pick(u))
      },
    })
  perUser('burrow_tunnel_connections', 'Connections serving each user tunnel.', (u) => u.connections)
  perUser('burrow_busy_channels', 'Requests in flight on each user tunnel (one SSH channel each).', (u) => u.busy)
  perUser('burrow_queued_requests', 'Requests waiting for a free channel of each user tunnel.', (u) => u.queued)

  // Counters kept by the gateway itself; set at scrape time (reset + inc keeps the counter type).
  new Counter({
    name: 'burrow_requests_total',
    help: 'Proxied requests that ended (any outcome after a channel was assigned).',
    registers,
    collect() {
      this.reset()
      this.inc(svc.registry.traffic.total.requests)
    },
  })
  new Counter({
    name: 'burrow_bytes_total',
    help: 'Body bytes through tunnels: direction="in" came back from agents, "out" went to them.',
    labelNames: ['direction'] as const,
    registers,
    collect() {
      const t = svc.registry.traffic.total
      this.reset()
      this.inc({ direction: 'in' }, t.bytesIn)
      this.inc({ direction: 'out' }, t.bytesOut)
    },
  })
  new Counter({
    name: 'burrow_connections_closed_total',
    help: 'Agent connections the gateway closed, by reason (stale, idle, replaced, admin).',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      this.reset()
      for (const [reason, n] of svc.registry.closedTotals()) this.inc({ reason }, n)
    },
  })
  new Counter({
    name: 'burrow_user_requests_total',
    help: 'Proxied requests that ended, per user tunnel (bounded: METRICS_TOP_USERS, else user="_other").',
    labelNames: ['user'] as const,
    registers,
    collect() {
      this.reset()
      const label = labelOf()
      for (const [user, t] of svc.registry.traffic.users()) this.inc({ user: label(user) }, t.requests)
    },
  })
  new Counter({
    name: 'burrow_user_bytes_total',
    help: 'Body bytes per user tunnel, counted as they flow (bounded as burrow_user_requests_total).',
    labelNames: ['user', 'direction'] as const,
    registers,
    collect() {
      this.reset()
      const label = labelOf()
      for (const [user, t] of svc.registry.traffic.users()) {
        this.inc({ user: label(user), direction: 'in' }, t.bytesIn)
        this.inc({ user: label(user), direction: 'out' }, t.bytesOut)
      }
    },
  })
  new Counter({
    name: 'burrow_keepalive_timeouts_total',
    help: 'SSH sessions ended because the agent missed 3 keep-alives in a row (the sweep\'s own stale closes are burrow_connections_closed_total{reason="stale"}).',
    registers,
    collect() {
      this.reset()
      this.inc(svc.counters.keepaliveTimeouts)
    },
  })
  new Counter({
    name: 'burrow_sweeps_total',
    help: 'Sweeps run (stale and idle connections), by trigger: interval or admin (POST /admin/cleanup).',
    labelNames: ['trigger'] as const,
    registers,
    collect() {
      this.reset()
      this.inc({ trigger: 'interval' }, svc.counters.sweeps.interval)
      this.inc({ trigger: 'admin' }, svc.counters.sweeps.admin)
    },
  })
  new Gauge({
    name: 'burrow_drain_seconds',
    help: 'How long the shutdown drain took (or has taken so far); 0 before any drain.',
    registers,
    collect() {
      this.set(svc.counters.drainSeconds())
    },
  })
  new Gauge({
    name: 'burrow_open_streams',
    help: 'Responses streaming (no Content-Length: SSE, chunked) and consumer WebSockets open right now.',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      this.set({ kind: 'http' }, svc.observe.openStreams.http)
      this.set({ kind: 'websocket' }, svc.observe.openStreams.websocket)
    },
  })
  new Counter({
    name: 'burrow_circuit_breaker_transitions_total',
    help: 'Circuit breaker transitions of all tunnels, by the state entered (open, half-open, closed).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.reset()
      for (const [state, n] of Object.entries(svc.breakers.transitions)) this.inc({ state }, n)
    },
  })
  new Gauge({
    name: 'burrow_circuit_breakers_open',
    help: 'Tunnels whose circuit breaker is open or half-open right now.',
    registers,
    collect() {
      this.set(svc.breakers.troubled().filter((b) => b.state !== 'closed').length)
    },
  })
  const o = svc.observe
  registerHistogram(registry, 'burrow_request_duration_seconds', 'Proxied requests from arrival to the end of the response body, by status class and streamed ("true": no Content-Length).', () =>
    o.duration.map((histogram, i) => ({ labels: { status_class: STATUS_CLASSES[i >> 1]!, streamed: i & 1 ? 'true' : 'false' }, histogram })).filter((x) => x.histogram.count > 0),
  )
  registerHistogram(registry, 'burrow_time_to_first_byte_seconds', 'Proxied requests from arrival to the response head handed to the consumer.', () => [{ labels: {}, histogram: o.ttfb }])
  registerHistogram(registry, 'burrow_queue_wait_seconds', "Time proxied requests waited for a free channel of their tunnel's pool (≈0 when one was free).", () => [{ labels: {}, histogram: o.queueWait }])
  if (svc.cluster !== undefined) {
    const forwarded = svc.cluster.forwarded
    new Counter({
      name: 'burrow_forwarded_requests_total',
      help: 'Requests this instance forwarded to another instance holding their tunnel (REDIS_URL).',
      registers,
      collect() {
        this.reset()
        this.inc(forwarded.requests)
      },
    })
  }
  return { contentType: registry.contentType, render: () => registry.metrics() }
}
