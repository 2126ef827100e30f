import { Hono } from 'hono'
import type { GatewayServices } from '../services.ts'
import { errorResponse } from '../errors.ts'
import { createMetrics, type MetricsExporter } from '../metrics.ts'
import { isAdmin } from './admin.ts'

/** `GET /metrics`: Prometheus text format, behind the admin token unless `metricsPublic`. */
export function metricsRoute(svc: GatewayServices): Hono {
  const app = new Hono()
  let exporter: Promise<MetricsExporter> | undefined
  app.get('/metrics', async (c) => {
    if (!svc.config.metricsPublic && !(await isAdmin(svc, c.req.header('authorization')))) {
      return errorResponse('unauthorized', 'the admin token is required (or set METRICS_PUBLIC=1)')
    }
    const metrics = await (exporter ??= createMetrics(svc))
    return new Response(await metrics.render(), { headers: { 'content-type': metrics.contentType } })
  })
  return app
}
