import { Hono } from 'hono'
import type { GatewayServices } from '../services.ts'

/** `GET /healthz` and `GET /readyz` (README: HTTP routes). */
export function healthRoutes(svc: GatewayServices): Hono {
  const app = new Hono()
  app.get('/healthz', (c) => (svc.isDraining() ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ok' })))
  app.get('/readyz', (c) => (svc.isDraining() ? c.json({ status: 'draining' }, 503) : c.json({ status: 'ready' })))
  return app
}
