// Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, never the next hop's.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Names listed in a Connection header are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionListed(value: string | null | undefined): Set<string> {
  const out = new Set<string>()
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
  readonly host: string | undefined
}

/**
 * Request headers for the local service, as a flat [name, value, ...] list for node:http:
 * hop-by-hop fields dropped, `Authorization` never forwarded (it holds the consumer's Burrow token),
 * X-Forwarded-For/-Proto/-Host set. Values are taken from the parsed Headers, where CR/LF cannot
 * occur, so nothing can be smuggled onto the next hop's wire.
 */
export function requestHeadersForUpstream(headers: Headers, fwd: ForwardedInfo): string[] {
  const listed = connectionListed(headers.get('connection'))
  const out: string[] = []
  let priorFor: string | undefined
  headers.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || listed.has(name) || name === 'authorization') return
    if (name === 'x-forwarded-for') {
      priorFor = value
      return
    }
    if (name === 'x-forwarded-proto' || name === 'x-forwarded-host') return
    out.push(name, value)
  })
  const forwardedFor = fwd.clientIp === undefined ? priorFor : priorFor ? `${priorFor}, ${fwd.clientIp}` : fwd.clientIp
  if (forwardedFor !== undefined) out.push('x-forwarded-for', forwardedFor)
  out.push('x-forwarded-proto', fwd.proto)
  if (fwd.host !== undefined) out.push('x-forwarded-host', fwd.host)
  return out
}

/** Response headers for the consumer from node:http's rawHeaders, hop-by-hop fields dropped. */
export function responseHeadersForConsumer(rawHeaders: readonly string[]): Headers {
  let listed: Set<string> | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') listed = connectionListed(rawHeaders[i + 1])
  }
  const out = new Headers()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue
    out.append(name, rawHeaders[i + 1]!)
  }
  return out
}
