import { Hono } from 'hono'
import { bearerOf } from '../../auth/tokens.ts'
import { clusterStats } from '../../cluster/cluster-stats.ts'
import { safeEqual } from '../auth.ts'
import type { GatewayServices } from '../services.ts'
import { errorResponse } from '../errors.ts'
import { connectionState, type LiveConn } from '../live-conn.ts'
import { authorizeAdmin } from '../admin-session.ts'

/** Whether the request carries the admin bearer token (compared in constant time). */
export async function isAdmin(svc: GatewayServices, authorization: string | undefined): Promise<boolean> {
  const { data } = await svc.opened()
  const token = bearerOf(authorization)
  return token !== undefined && safeEqual(token, data.adminToken)
}

/** `/admin/*`: stats, connections, kick, cleanup — behind the admin bearer token. */
export function adminRoutes(svc: GatewayServices): Hono {
  const app = new Hono()
  app.use('/admin/*', async (c, next) => {
    // The bearer token, or the dashboard's session cookie (with its CSRF token to change anything).
    if (!(await authorizeAdmin(svc, c)).ok) return errorResponse('unauthorized', 'the admin token is required')
    await next()
  })
  // With REDIS_URL: also the cluster's totals and each instance's figures (cluster/cluster-stats.ts).
  app.get('/admin/stats', async (c) => c.json(svc.cluster === undefined ? statsView(svc) : { ...statsView(svc), cluster: await clusterStats(svc.cluster.directory) }))
  app.get('/admin/connections', (c) => c.json({ connections: svc.registry.list().map((conn) => connectionView(svc, conn)) }))
  app.delete('/admin/connections/:id', (c) => {
    const closed = svc.registry.kick(c.req.param('id'))
    if (closed === undefined) return errorResponse('not_found', `no connection ${c.req.param('id').slice(0, 80)}`)
    return c.json({ closed })
  })
  app.post('/admin/cleanup', (c) => {
    const closed = svc.registry.sweepNow()
    svc.counters.sweeps.admin++
    if (closed.length > 0) svc.log.info('sweep', { closed: closed.length, trigger: 'admin' })
    return c.json({ closed: closed.map(({ id, user, reason }) => ({ id, user, reason })) })
  })
  return app
}

/** The figures of `GET /admin/stats`, also `Gateway.stats()`. */
export type GatewayStats = ReturnType<typeof statsView>

/**
 * `GET /admin/stats`. `totals` sums everything; `pool.users` has one line per user with a
 * connection. Bytes: `bytesIn` came back from tunnels, `bytesOut` went into them.
 */
export function statsView(svc: GatewayServices) {
  const now = Date.now()
  const pool = svc.registry.stats()
  const traffic = svc.registry.traffic.total
  return {
    uptime: Math.round((now - svc.startedAt) / 1000),
    startedAt: new Date(svc.startedAt).toISOString(),
    draining: svc.isDraining(),
    inflight: svc.inflight.count,
    totals: {
      users: pool.users.length,
      connections: pool.connections,
      tunnels: pool.tunnels,
      busy: pool.busy,
      queued: pool.queued,
      requests: traffic.requests,
      bytesIn: traffic.bytesIn,
      bytesOut: traffic.bytesOut,
    },
    pool,
    /** Tunnels whose circuit breaker is open, half-open, or counting failures. */
    breakers: svc.breakers.troubled(),
  }
}

/** One entry of `GET /admin/connections`. */
function connectionView(svc: GatewayServices, conn: LiveConn) {
  const entry = svc.registry.poolEntry(conn.id)
  const state = connectionState(conn, entry?.state, svc.isDraining())
  return {
    id: conn.id,
    user: conn.user,
    agentId: conn.agentId ?? null,
    /** Which of its connections the agent meant this to be (0, 1, …), or null when it did not say. */
    slot: conn.slot ?? null,
    remoteAddress: conn.remoteAddress ?? null,
    transport: conn.transport,
    public: conn.isPublic,
    opened: new Date(conn.openedAt).toISOString(),
    /** Last bytes from the agent (any packet, keep-alives included). */
    lastSeen: new Date(conn.lastByteAt).toISOString(),
    /** Last request started or ended on it (what idleness is measured from). */
    lastActivity: new Date(entry?.lastActive ?? conn.openedAt).toISOString(),
    busy: entry?.busy ?? 0,
    channels: conn.channels,
    requests: conn.requests,
    bytesIn: conn.bytesIn,
    bytesOut: conn.bytesOut,
    state,
    /** Its tunnel's circuit breaker: closed, open or half-open. */
    breaker: svc.breakers.view(conn.user).state,
  }
}
