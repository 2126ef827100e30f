import type { Registry } from 'prom-client'
import type { GatewayServices } from './services.ts'

/** A Prometheus text exposition of one gateway, rendered on demand. */
export interface MetricsExporter {
  readonly contentType: string
  render(): Promise<string>
}

/**
 * Build the gateway's metrics on its own prom-client Registry (never the global default one: two
 * gateways in one process must not share counters). Every value is read from the gateway at scrape
 * time, so the proxy path does no metrics work. prom-client is imported on the first scrape only.
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
  const perUser = (name: string, help: string, pick: (u: ReturnType<typeof stats>['users'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['user'] as const,
      registers,
      collect() {
        // Reset first: a user whose last connection went away must disappear, not linger at its last value.
        this.reset()
        for (const u of stats().users) this.set({ user: u.user }, pick(u))
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
