import { networkInterfaces } from 'node:os'

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', ''])

/**
 * Where other instances reach this one: `BURROW_INTERNAL_URL` when set (the only right answer
 * behind NAT, in containers, or when the gateway is mounted under a prefix), else
 * `http(s)://HOST:PORT` of the listener. A wildcard HOST (0.0.0.0, ::) is no address to dial: then
 * the first non-internal IPv4 address of this machine, or 127.0.0.1 when it has none. No trailing slash.
 */
export function internalUrl(configured: string | undefined, listener: { host: string; port: number; tls: boolean }): string {
  if (configured !== undefined) return configured.replace(/\/+$/, '')
  let host = listener.host
  if (WILDCARD.has(host)) host = firstExternalIpv4() ?? '127.0.0.1'
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`
  return `${listener.tls ? 'https' : 'http'}://${host}:${listener.port}`
}

function firstExternalIpv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}
