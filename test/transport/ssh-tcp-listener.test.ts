import { afterEach, describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { silentLogger } from '../../src/log/logger.ts'
import { listenSshTcp, type AcceptedSocket, type SshTcpListener } from '../../src/transport/ssh-tcp-listener.ts'
import { eventually } from '../support/admin.ts'

let listener: SshTcpListener | undefined
afterEach(async () => {
  await listener?.close()
  listener = undefined
})

/** Connect and resolve when the server has closed the socket (with how long it took), or after `ms`. */
function dial(port: number): { socket: Socket; closed: Promise<number> } {
  const started = Date.now()
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.on('data', () => {})
  const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - started)))
  return { socket, closed }
}

const within = (p: Promise<number>, ms: number) => Promise.race([p, new Promise<'open'>((r) => setTimeout(() => r('open'), ms))])

describe('listenSshTcp (before SSH authentication)', () => {
  test('a connection that does not authenticate in time is cut', async () => {
    listener = await listenSshTcp({ host: '127.0.0.1', port: 0, log: silentLogger, authTimeoutMs: 150, onSocket: () => {} })
    const { closed } = dial(listener.port)
    expect(await within(closed, 5_000)).toBeGreaterThanOrEqual(100)
  })

  test('an authenticated connection outlives the auth timeout', async () => {
    listener = await listenSshTcp({ host: '127.0.0.1', port: 0, log: silentLogger, authTimeoutMs: 100, onSocket: (a) => a.authenticated() })
    const { socket, closed } = dial(listener.port)
    expect(await within(closed, 400)).toBe('open')
    socket.destroy()
  })

  test('beyond maxUnauthenticated a new connection is cut at once; authenticating frees a slot', async () => {
    const accepted: AcceptedSocket[] = []
    listener = await listenSshTcp({ host: '127.0.0.1', port: 0, log: silentLogger, maxUnauthenticated: 2, onSocket: (a) => accepted.push(a) })
    const a = dial(listener.port)
    const b = dial(listener.port)
    await eventually('two accepted sockets', () => (accepted.length >= 2 ? true : undefined), 5_000, 5)
    const c = dial(listener.port)
    expect(await within(c.closed, 2_000)).not.toBe('open')
    expect(accepted).toHaveLength(2)
    accepted[0]!.authenticated()
    const d = dial(listener.port)
    await eventually('a third accepted socket', () => (accepted.length >= 3 ? true : undefined), 5_000, 5)
    expect(await within(d.closed, 200)).toBe('open')
    for (const s of [a, b, d]) s.socket.destroy()
  })

  test('close() stops accepting and cuts open sockets', async () => {
    const accepted: AcceptedSocket[] = []
    listener = await listenSshTcp({ host: '127.0.0.1', port: 0, log: silentLogger, onSocket: (a) => (accepted.push(a), a.authenticated()) })
    const port = listener.port
    const { closed } = dial(port)
    // Accepted first (not a sleep): close() must cut a socket it holds.
    await eventually('the socket to be accepted', () => (accepted.length >= 1 ? true : undefined), 5_000, 5)
    await listener.close()
    listener = undefined
    expect(await within(closed, 2_000)).not.toBe('open')
    const late = dial(port)
    expect(await within(late.closed, 2_000)).not.toBe('open')
  })
})
