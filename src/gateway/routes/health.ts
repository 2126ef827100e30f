import { Hono } from 'hono'
import type { GatewayCore } from '../core.ts'

/** `GET /healthz` and `GET /readyz` (DESIGN: HTTP routes). */
export function healthRoutes(core: GatewayCore): Hono {
  const app = new Hono()
  app.get('/healthz', (c) => (core.isDraining() ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ok' })))
  app.get('/readyz', (c) => (core.isDraining() ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ready' })))
  return app
}
