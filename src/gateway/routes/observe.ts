import { Hono } from 'hono'
import { TUNNEL_NAME } from '../../wire/index.ts'
import { errorResponse } from '../errors.ts'
import { connectionState } from '../live-conn.ts'
import type { GatewayServices } from '../services.ts'

/** Slots of the timeline the dashboard draws (10 s each): the last 5 minutes. */
const DASHBOARD_SLOTS = 30
/** Inspector entries per tunnel in the dashboard's data (the route has all 100). */
const DASHBOARD_REQUESTS = 20

/**
 * `GET /admin/tunnels/:tunnel/requests` (the request inspector) and `GET /admin/dashboard` (what
 * /admin/ui polls). Mounted after adminRoutes, whose /admin/* guard covers them.
 */
export function observeRoutes(svc: GatewayServices): Hono {
  const app = new Hono()
  app.get('/admin/tunnels/:tunnel/requests', (c) => {
    const tunnel = c.req.param('tunnel')
    if (!TUNNEL_NAME.test(tunnel)) return errorResponse('not_found', `no tunnel named ${JSON.stringify(tunnel.slice(0, 80))}`)
    return c.json({ tunnel, enabled: svc.observe.enabled, requests: svc.observe.inspector.list(tunnel) })
  })
  app.get('/admin/dashboard', (c) => c.json(dashboardView(svc)))
  return app
}

/** The dashboard's figures: users → connections, rates and latency of the last minutes, breakers, recent requests. */
export function dashboardView(svc: GatewayServices) {
  const now = Date.now()
  const stats = svc.registry.stats()
  const timeline = svc.observe.timeline
  const latency = timeline.latency(now, DASHBOARD_SLOTS)
  const ms = (s: number | undefined) => (s === undefined ? null : Math.round(s * 1e5) / 100)
  const byUser = new Map<string, ReturnType<typeof connectionLine>[]>()
  for (const conn of svc.registry.list()) {
    const line = connectionLine(svc, conn, now)
    const list = byUser.get(conn.user)
    if (list === undefined) byUser.set(conn.user, [line])
    else list.push(line)
  }
  return {
    now: new Date(now).toISOString(),
    uptime: Math.round((now - svc.startedAt) / 1000),
    draining: svc.isDraining(),
    inflight: svc.inflight.count,
    requestMetrics: svc.observe.enabled,
    totals: { connections: stats.connections, busy: stats.busy, queued: stats.queued, requests: stats.requests },
    /** Requests and 5xx answers per 10 s slot, oldest first. */
    timeline: timeline.points(now, DASHBOARD_SLOTS),
    latency: { windowS: (DASHBOARD_SLOTS * 10), p50Ms: ms(latency.quantile(0.5)), p99Ms: ms(latency.quantile(0.99)), count: latency.count },
    users: stats.users.map((u) => ({
      ...u,
      breaker: svc.breakers.view(u.user),
      connections: byUser.get(u.user) ?? [],
      requests: svc.observe.inspector.list(u.user).slice(0, DASHBOARD_REQUESTS),
    })),
    breakers: svc.breakers.troubled(),
  }
}

function connectionLine(svc: GatewayServices, conn: ReturnType<GatewayServices['registry']['list']>[number], now: number) {
  const entry = svc.registry.poolEntry(conn.id)
  return {
    id: conn.id,
    transport: conn.transport,
    remoteAddress: conn.remoteAddress ?? null,
    ageS: Math.round((now - conn.openedAt) / 1000),
    busy: entry?.busy ?? 0,
    channels: conn.channels,
    state: connectionState(conn, entry?.state, svc.isDraining()),
  }
}
