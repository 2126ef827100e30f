/**
 * The internal route between instances (instance B forwards a consumer's request to instance A,
 * which holds the tunnel): its path and the fields B adds. A consumer can send none of these to
 * any effect: the route refuses a request without the cluster secret, and B drops each of these
 * fields a consumer sent before adding its own (`CLUSTER_FIELD_NAMES`).
 */
export const INTERNAL_PATH = '/_burrow/internal/forward'

export const CLUSTER_FIELDS = {
  /** The cluster secret (cluster-secret.ts). */
  auth: 'burrow-cluster-auth',
  /** The forwarding instance's id: a request carrying it is never forwarded again (no loops). */
  hop: 'burrow-cluster-hop',
  /** The tunnel the consumer asked for. */
  tunnel: 'burrow-cluster-tunnel',
  /** The origin-form target for the local service (prefix stripped, query kept), as the consumer sent it. */
  path: 'burrow-cluster-path',
  /** How the consumer reached the tunnel: `host`, or `path:<mount prefix>` (for Location and Set-Cookie). */
  route: 'burrow-cluster-route',
  /** Who the first instance verified: the token's user, or `-` (public tunnel, CORS preflight). */
  identity: 'burrow-cluster-identity',
  /** The consumer's address as the first instance believed it (the channel's originator, logs). */
  client: 'burrow-cluster-client',
} as const

/** The cluster's fields as one set, to drop from whatever a consumer sent. */
export const CLUSTER_FIELD_NAMES: ReadonlySet<string> = new Set(Object.values(CLUSTER_FIELDS))

/** The field on an agent's WebSocket upgrade answer naming the instance it reached. */
export const INSTANCE_FIELD = 'burrow-instance'

/** `route` field value ⇄ the consumer's route. */
export function routeField(route: { routing: 'host' } | { routing: 'path'; mount: string }): string {
  return route.routing === 'host' ? 'host' : `path:${route.mount}`
}

export function parseRouteField(value: string | undefined): { routing: 'host' } | { routing: 'path'; mount: string } | undefined {
  if (value === 'host') return { routing: 'host' }
  if (value?.startsWith('path:')) return { routing: 'path', mount: value.slice(5) }
  return undefined
}
