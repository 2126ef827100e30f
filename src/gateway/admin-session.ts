import { randomBytes } from 'node:crypto'
import type { Context } from 'hono'
import { LRUCache } from 'lru-cache'
import { bearerOf } from '../auth/tokens.ts'
import { safeEqual } from './auth.ts'
import { readCookie } from './burrow-cookie.ts'
import type { GatewayServices } from './services.ts'

/** The dashboard's session cookie (HttpOnly, SameSite=Strict, Path=/admin). */
export const ADMIN_COOKIE = '__burrow_admin'
/** The header a cookie-authenticated state-changing admin call must carry (its session's CSRF token). */
export const CSRF_HEADER = 'x-csrf-token'
/** How long a dashboard login lasts, ms. */
export const ADMIN_SESSION_MS = 12 * 60 * 60 * 1000
/** Sessions kept at once; the oldest is forgotten past this (its browser logs in again). */
const MAX_SESSIONS = 1000

interface Session {
  readonly csrf: string
  readonly expires: number
}

/** How an admin request was authenticated: by the bearer token (scripts) or a dashboard session. */
export type AdminAuth = { readonly ok: true; readonly via: 'bearer' } | { readonly ok: true; readonly via: 'session'; readonly csrf: string } | { readonly ok: false }

/**
 * Dashboard logins: random 256-bit session ids in memory (a restart logs everyone out), each with
 * its own CSRF token that the page sends back as X-CSRF-Token on state-changing calls. SameSite=Strict
 * already keeps the cookie off cross-site requests; the token also covers same-site attackers
 * (a sibling tunnel's page under the base domain is same-site).
 */
export class AdminSessions {
  readonly #sessions = new LRUCache<string, Session>({ max: MAX_SESSIONS })

  constructor(private readonly now: () => number = Date.now) {}

  /** A new session: its id (the cookie's value) and its CSRF token. */
  create(): { id: string; csrf: string } {
    const id = randomBytes(32).toString('base64url')
    const csrf = randomBytes(32).toString('base64url')
    this.#sessions.set(id, { csrf, expires: this.now() + ADMIN_SESSION_MS })
    return { id, csrf }
  }

  /** The live session named by `id`, or undefined (unknown or expired: it is forgotten). */
  get(id: string): Session | undefined {
    const s = this.#sessions.get(id)
    if (s === undefined) return undefined
    if (s.expires <= this.now()) {
      this.#sessions.delete(id)
      return undefined
    }
    return s
  }

  end(id: string): void {
    this.#sessions.delete(id)
  }
}

/**
 * Who may use /admin: the bearer admin token, or a dashboard session cookie. A session may only
 * read (GET/HEAD) unless the request carries its CSRF token; the bearer needs none (a browser never
 * sends it by itself).
 */
export async function authorizeAdmin(svc: GatewayServices, c: Context): Promise<AdminAuth> {
  const { data } = await svc.opened()
  const token = bearerOf(c.req.header('authorization'))
  if (token !== undefined) return safeEqual(token, data.adminToken) ? { ok: true, via: 'bearer' } : { ok: false }
  const session = sessionOf(svc, c)
  if (session === undefined) return { ok: false }
  const method = c.req.method
  if (method !== 'GET' && method !== 'HEAD' && !safeEqual(c.req.header(CSRF_HEADER) ?? '', session.csrf)) return { ok: false }
  return { ok: true, via: 'session', csrf: session.csrf }
}

/** The request's dashboard session, if its cookie names a live one. */
export function sessionOf(svc: GatewayServices, c: Context): (Session & { id: string }) | undefined {
  for (const id of readCookie(c.req.header('cookie'), ADMIN_COOKIE)) {
    const s = svc.adminSessions.get(id)
    if (s !== undefined) return { ...s, id }
  }
  return undefined
}
