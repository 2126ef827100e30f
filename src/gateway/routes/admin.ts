import { Hono } from 'hono'
import { bearerOf } from '../../auth/tokens.ts'
import { safeEqual } from '../auth.ts'
import type { GatewayCore } from '../core.ts'
import { errorResponse } from '../errors.ts'

/** `/admin/*`: stats, connections, kick, cleanup — behind the admin bearer token. */
export function adminRoutes(core: GatewayCore): Hono {
  const app = new Hono()
  app.use('/admin/*', async (c, next) => {
    const { data } = await core.resources()
    const token = bearerOf(c.req.header('authorization'))
    if (token === undefined || !safeEqual(token, data.adminToken)) return errorResponse('unauthorized', 'the admin token is required')
    await next()
  })
  app.get('/admin/stats', (c) => {
    const now = Date.now()
    return c.json({
      uptime: Math.round((now - core.startedAt) / 1000),
      draining: core.isDraining(),
      inflight: core.inflight.count,
      totals: { ...core.traffic },
      pool: core.registry.stats(),
    })
  })
  app.get('/admin/connections', (c) =>
    c.json({
      connections: core.registry.list().map((conn) => ({
        id: conn.id,
        user: conn.user,
        agentId: conn.agentId ?? null,
        remoteAddress: conn.remoteAddress ?? null,
        transport: conn.transport,
        public: conn.isPublic,
        opened: new Date(conn.openedAt).toISOString(),
        lastActivity: new Date(conn.lastByteAt).toISOString(),
        busy: core.registry.busyOf(conn.id),
        requests: conn.requests,
        bytesIn: conn.bytesIn,
        bytesOut: conn.bytesOut,
        state: conn.forward === undefined ? 'connecting' : core.isDraining() ? 'draining' : 'ready',
      })),
    }),
  )
  app.delete('/admin/connections/:id', (c) => {
    const conn = core.registry.get(c.req.param('id'))
    if (conn === undefined) return errorResponse('bad_request', `no connection ${c.req.param('id')}`)
    core.log.info('connection_kicked', { conn: conn.id, user: conn.user })
    conn.close('closed by admin', 1000)
    return c.json({ closed: { id: conn.id, user: conn.user, reason: 'closed by admin' } })
  })
  app.post('/admin/cleanup', (c) => c.json({ closed: core.registry.sweepNow() }))
  return app
}
