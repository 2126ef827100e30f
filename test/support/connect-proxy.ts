/**
 * An HTTP CONNECT proxy for tests (node:net), and the only way to reach `gateway.internal`: it
 * resolves that name to 127.0.0.1 itself (nothing else on the machine knows it). With `auth`, a
 * CONNECT without the right `Proxy-Authorization: Basic` gets 407. It records what it was asked.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface ConnectProxy {
  readonly url: string
  readonly port: number
  /** `host:port` of every CONNECT it carried out. */
  readonly tunnels: string[]
  /** CONNECTs refused (wrong or missing credentials, unknown name). */
  readonly refused: string[]
  close(): Promise<void>
}

const NAMES: Record<string, string> = { 'gateway.internal': '127.0.0.1' }

export async function startConnectProxy(auth?: { user: string; password: string }): Promise<ConnectProxy> {
  const tunnels: string[] = []
  const refused: string[] = []
  const sockets = new Set<Socket>()
  const expected = auth === undefined ? undefined : `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      client.off('data', onData)
      const lines = head.subarray(0, end).toString('latin1').split('\r\n')
      const rest = head.subarray(end + 4)
      const m = /^CONNECT ([^\s:]+|\[[^\]]+\]):(\d+) HTTP\/1\.[01]$/.exec(lines[0] ?? '')
      const authLine = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]+:\s*/, '')
      if (m === null) return void (refused.push(lines[0] ?? ''), client.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n'))
      if (expected !== undefined && authLine !== expected) {
        refused.push(`${m[1]}:${m[2]} (credentials)`)
        return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\ncontent-length: 0\r\n\r\n')
      }
      const address = NAMES[m[1]!]
      if (address === undefined) return void (refused.push(`${m[1]}:${m[2]} (unknown name)`), client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'))
      const upstream = connect(Number(m[2]), address, () => {
        tunnels.push(`${m[1]}:${m[2]}`)
        client.write('HTTP/1.1 200 Connection established\r\n\r\n')
        if (rest.length > 0) upstream.write(rest)
        upstream.pipe(client).pipe(upstream)
      })
      sockets.add(upstream)
      upstream.on('close', () => (sockets.delete(upstream), client.destroy()))
      upstream.on('error', () => client.destroy())
      client.on('close', () => upstream.destroy())
    }
    client.on('data', onData)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    refused,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise<void>((r) => server.close(() => r()))
    },
  }
}
