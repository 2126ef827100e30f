import { Hono } from 'hono'
import { ADMIN_COOKIE, ADMIN_SESSION_MS, CSRF_HEADER, sessionOf } from '../admin-session.ts'
import { safeEqual } from '../auth.ts'
import { dashboardPage, loginPage } from '../dashboard/page.ts'
import { DASHBOARD_SCRIPT } from '../dashboard/script.ts'
import { errorResponse } from '../errors.ts'
import { retryAfterSeconds } from '../rate-limits.ts'
import type { GatewayServices } from '../services.ts'

// No inline script, no framing (clickjacking on the kick buttons), nothing from elsewhere.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
}

/**
 * The dashboard: `GET /admin/ui` (the login form, or the page once signed in), its script, and
 * `POST /admin/login` / `POST /admin/logout`. Mounted before adminRoutes: these answer without the
 * /admin/* guard. Login takes the admin token from a form and sets an HttpOnly, SameSite=Strict
 * session cookie scoped to /admin (Secure over https); logout needs the session's CSRF token.
 */
export function dashboardRoutes(svc: GatewayServices): Hono {
  const app = new Hono()
  app.get('/admin/ui', (c) => {
    const session = sessionOf(svc, c)
    if (session === undefined) return new Response(loginPage(), { headers: PAGE_HEADERS })
    return new Response(dashboardPage(session.csrf), { headers: PAGE_HEADERS })
  })
  app.get('/admin/ui/app.js', () => new Response(DASHBOARD_SCRIPT, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' } }))
  app.post('/admin/login', async (c) => {
    const client = svc.client(c)
    // Guesses at the admin token spend the same per-address budget as consumer requests.
    const budget = svc.limits.consumerIp(client.address)
    if (!budget.ok) return errorResponse('rate_limited', 'too many attempts from your address', { 'retry-after': String(retryAfterSeconds(budget.retryAfterMs)) })
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    const token = typeof form['token'] === 'string' ? form['token'] : ''
    const { data } = await svc.opened()
    if (token === '' || !safeEqual(token, data.adminToken)) {
      svc.log.warn('admin_login_failed', { client: client.address })
      return new Response(loginPage('That is not the admin token.'), { status: 401, headers: PAGE_HEADERS })
    }
    const { id } = svc.adminSessions.create()
    svc.log.info('admin_login', { client: client.address })
    const secure = client.proto === 'https' ? '; Secure' : ''
    return new Response(null, {
      status: 303,
      headers: {
        location: '/admin/ui',
        'set-cookie': `${ADMIN_COOKIE}=${id}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${ADMIN_SESSION_MS / 1000}${secure}`,
        'cache-control': 'no-store',
      },
    })
  })
  app.post('/admin/logout', (c) => {
    const session = sessionOf(svc, c)
    if (session === undefined || !safeEqual(c.req.header(CSRF_HEADER) ?? '', session.csrf)) return errorResponse('unauthorized', 'no dashboard session, or no CSRF token')
    svc.adminSessions.end(session.id)
    return new Response(null, { status: 204, headers: { 'set-cookie': `${ADMIN_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0` } })
  })
  return app
}
