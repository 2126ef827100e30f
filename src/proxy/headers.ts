/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, never the next hop's.
 * `Trailer` is end-to-end; it is dropped where no trailers will follow (see the runtime adapters).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'transfer-encoding',
  'upgrade',
])

/** Names listed in a Connection header are hop-by-hop too (RFC 9110 §7.6.1); added to `into`. */
export function connectionListed(value: string | null | undefined, into: Set<string> = new Set()): Set<string> {
  const out = into
  if (!value) return out
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase()
    if (name) out.add(name)
  }
  return out
}

export interface ForwardedInfo {
  readonly clientIp: string | undefined
  readonly proto: 'http' | 'https'
  /** The Host the consumer asked for (the public one): sent on as X-Forwarded-Host. */
  readonly host: string | undefined
  /** The Host the local service gets (see gateway/upstream-host.ts); undefined: none is sent. */
  readonly upstreamHost: string | undefined
  /** Further fields to drop (the consumer's Burrow credentials), lower case. */
  readonly drop?: ReadonlySet<string> | undefined
  /** Fields whose value is replaced (the Cookie header without Burrow's login cookie). */
  readonly replace?: ReadonlyMap<string, string> | undefined
  /** The request's id (wire/request-id.ts), sent as X-Request-Id in place of any the consumer sent. */
  readonly requestId?: string | undefined
}

/**
 * Request headers for the local service, as a flat [name, value, ...] list: Host first (RFC 9112
 * §3.2) as `upstreamHost`, hop-by-hop fields and `fwd.drop` dropped, X-Forwarded-For/-Proto/-Host
 * set, X-Request-Id set to `fwd.requestId`. Values are taken from the parsed Headers, where CR/LF cannot occur, so nothing can be
 * smuggled onto the next hop's wire.
 */
export function requestHeadersForUpstream(headers: Headers, fwd: ForwardedInfo): string[] {
  const listed = connectionListed(headers.get('connection'))
  const out: string[] = []
  if (fwd.upstreamHost !== undefined) out.push('host', fwd.upstreamHost)
  let priorFor: string | undefined
  headers.forEach((value, name) => {
    // The request body is re-framed without trailers, so a Trailer field would promise none.
    if (HOP_BY_HOP.has(name) || listed.has(name) || name === 'host' || name === 'trailer' || fwd.drop?.has(name)) return
    if (name === 'x-forwarded-for') {
      priorFor = value
      return
    }
    if (name === 'x-forwarded-proto' || name === 'x-forwarded-host' || (name === 'x-request-id' && fwd.requestId !== undefined)) return
    out.push(name, fwd.replace?.get(name) ?? value)
  })
  const forwardedFor = fwd.clientIp === undefined ? priorFor : priorFor ? `${priorFor}, ${fwd.clientIp}` : fwd.clientIp
  if (forwardedFor !== undefined) out.push('x-forwarded-for', forwardedFor)
  out.push('x-forwarded-proto', fwd.proto)
  if (fwd.host !== undefined) out.push('x-forwarded-host', fwd.host)
  if (fwd.requestId !== undefined) out.push('x-request-id', fwd.requestId)
  return out
}
