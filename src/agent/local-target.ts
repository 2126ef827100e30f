import { connect, type Socket } from 'node:net'

/** Where the agent sends each channel: host and port of the local service. */
export interface LocalTarget {
  readonly host: string
  readonly port: number
}

/**
 * Parse `--to` (`http://127.0.0.1:11434`, `127.0.0.1:3000`, or a bare port). Undefined for anything
 * else: a port outside 1–65535, another scheme, or a path, query or fragment (the tunnel forwards
 * each request's own path; a prefix here would be silently dropped).
 */
export function parseTarget(to: string): LocalTarget | undefined {
  if (/^\d+$/.test(to)) {
    const port = Number(to)
    return port > 0 && port < 65536 ? { host: '127.0.0.1', port } : undefined
  }
  try {
    const url = new URL(/^[a-z]+:\/\//i.test(to) ? to : `http://${to}`)
    if (url.protocol !== 'http:' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return undefined
    const port = url.port === '' ? 80 : Number(url.port)
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    if (host === '' || !(port > 0 && port < 65536)) return undefined
    return { host, port }
  } catch {
    return undefined
  }
}

/** Dial the local service; resolves with the connected socket or rejects with why not. */
export function dialTarget(target: LocalTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port })
    socket.setNoDelay(true)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}
