import { createServer, type Server, type Socket } from 'node:net'
import type { Logger } from '../log/logger.ts'

/** A bound TCP listener for stock OpenSSH clients. */
export interface SshTcpListener {
  readonly port: number
  /** Stop accepting and cut every socket still open (the gateway's drain has disconnected them by then). */
  close(): Promise<void>
}

/** What the listener hands over for each accepted socket: call `authenticated()` once SSH auth succeeds. */
export interface AcceptedSocket {
  readonly socket: Socket
  authenticated(): void
}

export interface SshTcpListenerOptions {
  readonly host: string
  readonly port: number
  readonly log: Logger
  /** ms from accept to a successful SSH authentication before the socket is cut (default 10 s). */
  readonly authTimeoutMs?: number
  /** Sockets allowed to be unauthenticated at once; more are cut on accept (default 64). */
  readonly maxUnauthenticated?: number
  /** Asked first on every accept (the per-IP rate limit); false cuts the socket at once. */
  readonly admit?: (remoteAddress: string | undefined) => boolean
  onSocket(accepted: AcceptedSocket): void
}

// sshd's LoginGraceTime is 120 s; an agent that is going to authenticate does it in one or two
// round trips, so 10 s is generous and keeps a slowloris from holding slots for long.
const DEFAULT_AUTH_TIMEOUT_MS = 10_000
// Like sshd's MaxStartups: a bound on key exchanges and guesses in progress, which cost CPU and
// memory before anyone has proved who they are. Authenticated connections are bounded by the pool.
const DEFAULT_MAX_UNAUTHENTICATED = 64

/**
 * Listen for raw SSH over TCP. The listener owns what happens before authentication (the time
 * limit and the bound on unauthenticated sockets); SSH itself runs in the gateway's SshGatewayServer.
 */
export async function listenSshTcp(opts: SshTcpListenerOptions): Promise<SshTcpListener> {
  const authTimeoutMs = opts.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS
  const maxUnauthenticated = opts.maxUnauthenticated ?? DEFAULT_MAX_UNAUTHENTICATED
  const sockets = new Set<Socket>()
  let unauthenticated = 0
  let refusedSinceWarn = 0

  const server: Server = createServer({ noDelay: true }, (socket) => {
    if (opts.admit !== undefined && !opts.admit(socket.remoteAddress)) {
      // Nothing useful can be said before SSH's identification exchange; the refusal is logged.
      socket.on('error', () => {})
      socket.destroy()
      return
    }
    if (unauthenticated >= maxUnauthenticated) {
      // Log the first refusal of a burst, not every one: a flood must not become a log flood.
      if (refusedSinceWarn++ === 0) opts.log.warn('ssh_unauthenticated_limit', { max: maxUnauthenticated, remote: socket.remoteAddress })
      socket.destroy()
      return
    }
    refusedSinceWarn = 0
    sockets.add(socket)
    unauthenticated++
    let pending = true
    const settle = () => {
      if (!pending) return
      pending = false
      unauthenticated--
      clearTimeout(timer)
    }
    const timer = setTimeout(() => {
      opts.log.info('ssh_auth_timeout', { remote: socket.remoteAddress, ms: authTimeoutMs })
      settle()
      socket.destroy()
    }, authTimeoutMs)
    // SSH packets are small and latency-bound (channel opens, window adjusts): never wait for Nagle.
    socket.setNoDelay(true)
    socket.on('error', (err) => opts.log.debug('ssh_socket_error', { remote: socket.remoteAddress, message: err.message }))
    socket.on('close', () => {
      settle()
      sockets.delete(socket)
    })
    opts.onSocket({ socket, authenticated: settle })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (err: Error) => opts.log.error('ssh_listener_error', { message: err.message }))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : opts.port
  opts.log.info('ssh_listening', { host: opts.host, port })

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}
