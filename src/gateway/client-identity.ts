import proxyaddr from 'proxy-addr'

/** Who sent a request, as the gateway believes it: the client's address and the scheme it used. */
export interface ClientIdentity {
  readonly address: string | undefined
  readonly port: number | undefined
  /**
   * The socket's peer: the client itself, or the nearest proxy. What the gateway appends to
   * X-Forwarded-For, as every hop appends its own peer (so the service sees the whole chain).
   */
  readonly peer: string | undefined
  /** `https` when the consumer reached the gateway (or a trusted proxy in front) over TLS. */
  readonly proto: 'http' | 'https'
}

/**
 * How the gateway tells who a client is. Without TRUSTED_PROXIES, the socket's peer (a client's own
 * X-Forwarded-For is never believed). With it, a request from a trusted peer is taken at its
 * proxy's word: the client is the rightmost untrusted address of X-Forwarded-For (as Express and
 * nginx's real_ip do, with proxy-addr), and X-Forwarded-Proto says the scheme. So rate limits,
 * logs and the agent-attempt budget count real clients behind a load balancer, and cookies and
 * redirects know the consumer used https.
 * `trusted` are CIDRs or addresses (`10.0.0.0/8`, `::1`); validated by the config.
 */
export function clientResolver(trusted: readonly string[] | undefined): (peer: { address: string | undefined; port: number | undefined }, headers: Headers, url: string) => ClientIdentity {
  const ownScheme = (url: string): 'http' | 'https' => (url.startsWith('https:') ? 'https' : 'http')
  if (trusted === undefined || trusted.length === 0) return (peer, _headers, url) => ({ address: peer.address, port: peer.port, peer: peer.address, proto: ownScheme(url) })
  const trust = proxyaddr.compile([...trusted])
  return (peer, headers, url) => {
    if (peer.address === undefined || !trust(peer.address, 0)) return { address: peer.address, port: peer.port, peer: peer.address, proto: ownScheme(url) }
    const forwardedFor = headers.get('x-forwarded-for') ?? undefined
    // proxy-addr reads a Node request's shape; only these two fields matter to it.
    const address = proxyaddr({ connection: { remoteAddress: peer.address }, socket: { remoteAddress: peer.address }, headers: { 'x-forwarded-for': forwardedFor } } as never, trust)
    // The proto the nearest trusted proxy saw (the last value when several were appended).
    const forwardedProto = headers.get('x-forwarded-proto')?.split(',').at(-1)?.trim().toLowerCase()
    const proto = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : ownScheme(url)
    return { address, port: address === peer.address ? peer.port : undefined, peer: peer.address, proto }
  }
}
