import type { Context } from 'hono'
import type { TokenVerifier } from '../auth/verifier.ts'
import { browserLogin, type LoginScope } from './browser-login.ts'
import { consumerCredential, type HeaderEdit } from './consumer-credentials.ts'
import { errorResponse } from './errors.ts'
import { tunnelPrefix } from './tunnel-prefix.ts'

/** How the request reached its tunnel: `/t/<tunnel>/` under `mount`, or `<tunnel>.<base domain>`. */
export type ConsumerRoute = { readonly routing: 'path'; readonly mount: string } | { readonly routing: 'host' }

/** The verdict on a consumer request: forward it (after `edits`), or answer `response` instead. */
export type Access =
  | {
      readonly ok: true
      readonly edits: readonly HeaderEdit[]
      /** The verified token's user; undefined when no token was needed (public tunnel, CORS preflight). */
      readonly identity?: string
    }
  | { readonly ok: false; readonly response: Response }

export interface AccessInput {
  readonly verify: TokenVerifier
  readonly tunnel: string
  readonly isPublic: boolean
  readonly route: ConsumerRoute
  /** The consumer used https (to the gateway, or to a trusted proxy in front): the login cookie is Secure. */
  readonly secure: boolean
  /** PATH_ROUTING_LOGIN: browser logins under path routing (see below). */
  readonly pathRoutingLogin: boolean
  readonly now: number
}

/**
 * Who may send this request to `tunnel` (consumer-credentials.ts decides where the credential is;
 * this checks it). The token's user must own the tunnel, unless the tunnel is public. Existence is
 * only revealed to its owner: no token is 401 and another user's token 403, whether or not the
 * tunnel exists. A browser login link gets its redirect and cookie (browser-login.ts).
 *
 * Under path routing every tunnel shares the gateway's origin, and a cookie's Path is no security
 * boundary (RFC 6265 §8.5): a page of any other tunnel could read this one through the browser of
 * whoever logged in. So browser logins there are off unless the operator says the tunnels trust
 * each other (PATH_ROUTING_LOGIN=1); Host routing gives each tunnel its own origin.
 */
export async function authorizeConsumer(c: Context, input: AccessInput): Promise<Access> {
  const { tunnel, route } = input
  const url = c.req.url
  const query = url.indexOf('?')
  const search = query < 0 ? '' : url.slice(query)
  const secure = input.secure
  const decision = consumerCredential({ method: c.req.method, headers: c.req.raw.headers, search, tunnel, routing: route.routing, secure, isPublic: input.isPublic })
  switch (decision.kind) {
    case 'refused':
      return deny(errorResponse(decision.code, decision.reason))
    case 'cors-preflight':
    case 'none':
      return { ok: true, edits: decision.edits }
    case 'verify': {
      const verified = await input.verify(decision.token)
      if (!verified.ok) return deny(errorResponse('unauthorized', verified.reason))
      if (verified.claims.user !== tunnel && !input.isPublic) return deny(errorResponse('forbidden', `this token does not grant access to tunnel ${tunnel}`))
      return { ok: true, edits: decision.edits, identity: verified.claims.user }
    }
    case 'query-login': {
      if (route.routing === 'path' && !input.pathRoutingLogin) {
        return deny(
          errorResponse(
            'forbidden',
            'Cannot log in a browser under /t/<tunnel>/: every tunnel there shares one origin, so another tunnel\'s page could read this one through your browser. ' +
              'Use Host routing (BURROW_BASE_DOMAIN, e.g. http://alice.localhost:8080/ with BURROW_BASE_DOMAIN=localhost), ' +
              'or set PATH_ROUTING_LOGIN=1 on a gateway whose tunnels trust each other',
          ),
        )
      }
      const verified = await input.verify(decision.token)
      if (!verified.ok) return deny(errorResponse('unauthorized', verified.reason))
      if (verified.claims.user !== tunnel) return deny(errorResponse('forbidden', `this token does not grant access to tunnel ${tunnel}`))
      const pathStart = url.indexOf('/', url.indexOf('://') + 3)
      const path = pathStart < 0 ? '/' : url.slice(pathStart, query < 0 ? undefined : query)
      const scope: LoginScope = route.routing === 'path' ? { routing: 'path', prefix: tunnelPrefix(route.mount, tunnel) } : { routing: 'host' }
      const login = browserLogin({ path, search, secure, scope }, decision.token, verified.claims.exp, input.now)
      if (!login.ok) return deny(errorResponse('unauthorized', login.reason))
      return deny(new Response(null, { status: login.status, headers: login.headers }))
    }
  }
}

function deny(response: Response): Access {
  return { ok: false, response }
}
