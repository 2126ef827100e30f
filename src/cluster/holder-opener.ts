import { connect as tcpConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'

/** Opens one stream; the shape of the proxy's ChannelOpener (an SSH channel there, a socket here). */
export type StreamOpener = (callback: (err: Error | undefined, stream?: Duplex) => void) => void

/** Where a holder's internal route listens: parsed once per holder URL. */
export interface HolderAddress {
  readonly host: string
  readonly port: number
  readonly tls: boolean
  /** Path prefix of the holder's gateway (`/tunnels` when mounted there), no trailing slash. */
  readonly prefix: string
  /** `host:port` as the Host field of requests to it. */
  readonly authority: string
}

/** `http://10.0.0.7:8080/tunnels` → its address; undefined for anything else (never dialed). */
export function holderAddress(url: string): HolderAddress | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return undefined
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined
  const tls = u.protocol === 'https:'
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port)
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return { host, port, tls, prefix: u.pathname.replace(/\/+$/, ''), authority: u.host }
}

/**
 * A socket to a holder instance, as the exchange takes a channel: connected (TLS: verified against
 * the system's CAs, or `ca`) before it is handed over, with Nagle off (the head and small bodies
 * must not wait for a delayed ACK). A failure to connect is reported once, as an Error.
 */
export function holderOpener(addr: HolderAddress, ca?: string): StreamOpener {
  return (callback) => {
    let settled = false
    const socket = addr.tls
      ? tlsConnect({ host: addr.host, port: addr.port, servername: isIp(addr.host) ? undefined : addr.host, ca, ALPNProtocols: ['http/1.1'] })
      : tcpConnect({ host: addr.host, port: addr.port })
    socket.setNoDelay(true)
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      socket.destroy()
      callback(new Error(`instance ${addr.authority} could not be reached (${err.message})`))
    }
    socket.once('error', fail)
    socket.once(addr.tls ? 'secureConnect' : 'connect', () => {
      if (settled) return
      settled = true
      socket.off('error', fail)
      // After hand-over an error ends the stream; the exchange reads that as a reset.
      socket.on('error', () => {})
      callback(undefined, socket)
    })
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':')
}
