import type { Duplex } from 'node:stream'
import type { AuthContext, Connection, Server, ServerChannel, TcpipBindInfo } from 'ssh2'
import ssh2 from '../wire/ssh2.ts'
import type { Logger } from '../log/logger.ts'
import { MISSED_KEEPALIVES } from '../wire/index.ts'
import { SSH_ALGORITHMS } from './ssh-algorithms.ts'
import { DISCONNECT, disconnectWithReason } from './ssh-disconnect.ts'

/**
 * How the server checks an OpenSSH user's credentials (an authorized key, or a token as the
 * password): `authenticated` lets the user in, `key-ok` answers a publickey query without
 * signature (the client may now sign), `rejected` refuses; `{ exp }` lets the user in on a token
 * that expires at `exp` (seconds). The gateway passes auth's check.
 */
export type SshCredentialCheck = (ctx: AuthContext) => Promise<CredentialOutcome>
type CredentialOutcome = 'authenticated' | 'key-ok' | 'rejected' | { readonly exp: number }

/** Who a transport already authenticated (the WebSocket route checked the bearer token). */
export interface SessionBinding {
  readonly connId: string
  readonly user: string
}

/**
 * A socket whose user SSH itself must authenticate (stock OpenSSH on the TCP listener): an
 * authorized public key, or a token as the password. `onAuthenticated` runs before ssh2 tells
 * the client it is in, so the connection is tracked before its first request can arrive.
 */
export interface PendingSession {
  readonly connId: string
  /** `exp`: the token's expiry (seconds) when a token was the password. */
  onAuthenticated(binding: SessionBinding, method: string, exp?: number): void
}

/**
 * What the transport wants to hear about its socket's SSH session, to close it with a clear
 * reason: SSH began (the peer sent a valid identification), it authenticated, or ssh2 gave up on
 * it (garbage, a protocol violation, unanswered keep-alives) and is about to end the socket.
 */
export interface SshSocketObserver {
  onHeader?(): void
  onReady?(): void
  /** `level` is ssh2's error level, e.g. `client-timeout` for unanswered keep-alives. */
  onError?(message: string, level: string | undefined): void
}

/** A tunnel registration requested by `tcpip-forward`, echoed back on every forwarded channel. */
export interface ForwardSpec {
  readonly bindAddr: string
  readonly bindPort: number
}

export type ForwardVerdict = { ok: true; port: number } | { ok: false; reason: string }

/** What the gateway shell decides for each SSH session; the transport only carries it out. */
export interface SshSessionHooks {
  /**
   * `tcpip-forward`: register the tunnel. A refusal's reason is given to the peer. May answer
   * later (a promise) when admission asks something outside the process (the cluster's Redis).
   */
  onForward(binding: SessionBinding, client: Connection, spec: ForwardSpec): ForwardVerdict | Promise<ForwardVerdict>
  onCancelForward(binding: SessionBinding, spec: ForwardSpec): void
  /** The text a `shell` request displays (OpenSSH users): URL and state, nothing executed. */
  statusText(binding: SessionBinding): string
  /** The SSH session ended (socket closed). */
  onClose(binding: SessionBinding): void
  /** The peer missed MISSED_KEEPALIVES keep-alives in a row and ssh2 ended the session (for /metrics). */
  onKeepaliveTimeout?(): void
}

export interface SshServerOptions {
  readonly hostKey: string
  readonly keepaliveInterval: number
  readonly log: Logger
  readonly hooks: SshSessionHooks
  /** Checks OpenSSH credentials for pending sessions; without it they can never authenticate. */
  readonly credentials?: SshCredentialCheck
}

// OpenSSH's sshd default (MaxAuthTries): enough for a few agent keys and a password, and a
// bound on guesses per connection (the TCP listener's auth timeout bounds the time).
const MAX_AUTH_FAILURES = 6
const AUTH_METHODS: AuthContext['method'][] = ['publickey', 'password']

/** A `tcpip-forward` for port 0 asks the server to pick: every tunnel is reached on 80. */
const TUNNEL_PORT = 80

/** Refused request kinds, logged once each: the SSH surface is only what a tunnel needs. */
function refuse(log: Logger, binding: SessionBinding, what: string, reject: (() => void) | undefined): void {
  log.warn('ssh_refused', { conn: binding.connId, user: binding.user, what })
  reject?.()
}

/**
 * The gateway's SSH server. Sockets are injected (a WebSocket duplex, or a TCP socket) together
 * with the user the transport authenticated, or as pending sessions that authenticate over SSH;
 * ssh2's 'connection' event only hands us its client, so the session is found again through
 * the socket.
 */
export class SshGatewayServer {
  readonly #server: Server
  readonly #sessions = new WeakMap<object, SessionBinding | PendingSession>()
  readonly #observers = new WeakMap<object, SshSocketObserver>()
  readonly #clients = new Map<string, Connection>()
  readonly #opts: SshServerOptions

  constructor(opts: SshServerOptions) {
    this.#opts = opts
    this.#server = new ssh2.Server(
      {
        hostKeys: [opts.hostKey],
        algorithms: SSH_ALGORITHMS,
        ident: 'Burrow',
        // ssh2 pings with want-reply and ends the session after `count` unanswered pings; the
        // pool's sweep is the second line of defence (it also catches a socket ssh2 cannot end).
        keepaliveInterval: opts.keepaliveInterval,
        keepaliveCountMax: MISSED_KEEPALIVES,
      },
      (client, info) => this.#onClient(client, info.ip),
    )
    this.#server.on('error', (err: Error) => opts.log.warn('ssh_server_error', { message: err.message }))
  }

  /** Run SSH on `socket`, for an already-authenticated user or a session SSH must authenticate. */
  inject(socket: Duplex, session: SessionBinding | PendingSession, observer?: SshSocketObserver): void {
    this.#sessions.set(socket, session)
    if (observer !== undefined) this.#observers.set(socket, observer)
    this.#server.injectSocket(socket as never)
  }

  /**
   * SSH DISCONNECT carrying `reason` as its description (OpenSSH prints it), then end the
   * socket. False when the connection has no SSH session (yet, or any more).
   */
  disconnect(connId: string, reason: string, code: number = DISCONNECT.BY_APPLICATION): boolean {
    const client = this.#clients.get(connId)
    return client !== undefined && disconnectWithReason(client, reason, code)
  }

  #onClient(client: Connection, ip: string): void {
    // ssh2 keeps the injected socket as `_sock`; that is how we find which session it carries.
    const socket = (client as unknown as { _sock: object })._sock
    const session = this.#sessions.get(socket)
    const { log, hooks } = this.#opts
    if (session === undefined) {
      log.error('ssh_unbound_socket', { ip })
      client.end()
      return
    }
    const connId = session.connId
    this.#clients.set(connId, client)
    let binding: SessionBinding | undefined = 'user' in session ? session : undefined
    const observer = this.#observers.get(socket)
    observer?.onHeader?.()
    client.on('error', (err: Error & { level?: string }) => {
      log.debug('ssh_client_error', { conn: connId, message: err.message, level: err.level })
      // ssh2's wording when keepaliveCountMax replies are missing (lib/server.js).
      if (err.message === 'Keepalive timeout') hooks.onKeepaliveTimeout?.()
      observer?.onError?.(err.message, err.level)
    })
    client.on('close', () => {
      this.#clients.delete(connId)
      if (binding !== undefined) hooks.onClose(binding)
    })
    if (binding !== undefined) {
      const preauthenticated = binding
      this.#serve(client, preauthenticated)
      // The transport already authenticated the user (bearer token on the WebSocket); SSH auth
      // only has to name the same user.
      client.on('authentication', (ctx: AuthContext) => (ctx.username === preauthenticated.user ? ctx.accept() : ctx.reject([])))
    } else {
      const pending = session as PendingSession
      let failures = 0
      client.on('authentication', (ctx: AuthContext) => {
        this.#authenticate(ctx).then(
          (verdict) => {
            if (verdict === 'authenticated' || typeof verdict === 'object') {
              binding = { connId, user: ctx.username }
              this.#serve(client, binding)
              pending.onAuthenticated(binding, ctx.method, typeof verdict === 'object' ? verdict.exp : undefined)
              ctx.accept()
            } else if (verdict === 'key-ok') {
              ctx.accept()
            } else {
              // `none` is how a client asks which methods exist: not a failed attempt.
              if (ctx.method !== 'none' && ++failures >= MAX_AUTH_FAILURES) {
                log.warn('ssh_auth_failed', { conn: connId, ip, method: ctx.method, failures, final: true })
                disconnectWithReason(client, 'too many authentication failures', DISCONNECT.NO_MORE_AUTH_METHODS_AVAILABLE)
                return
              }
              if (ctx.method !== 'none') log.info('ssh_auth_failed', { conn: connId, ip, method: ctx.method, failures })
              ctx.reject(AUTH_METHODS)
            }
          },
          (err: Error) => {
            log.error('ssh_auth_error', { conn: connId, message: err.message })
            ctx.reject(AUTH_METHODS)
          },
        )
      })
    }
    client.on('ready', () => {
      log.debug('ssh_ready', { conn: connId, user: binding?.user })
      observer?.onReady?.()
      speakEvery(client, this.#opts.keepaliveInterval)
    })
  }

  async #authenticate(ctx: AuthContext): Promise<CredentialOutcome> {
    const check = this.#opts.credentials
    if (check === undefined || ctx.method === 'none') return 'rejected'
    // No SHA-1 (README): an RSA key signing with plain `ssh-rsa` (SHA-1) and DSA keys are refused;
    // RSA keys with rsa-sha2-256/512 are fine. ssh2 reports a SHA-2 RSA signature as hashAlgo.
    if (ctx.method === 'publickey' && (ctx.key.algo === 'ssh-dss' || (ctx.key.algo === 'ssh-rsa' && ctx.hashAlgo === undefined))) {
      this.#opts.log.info('ssh_sha1_refused', { user: ctx.username, algo: ctx.key.algo })
      return 'rejected'
    }
    return check(ctx)
  }

  /** The requests an authenticated session may make: a tunnel, and the status display. */
  #serve(client: Connection, binding: SessionBinding): void {
    const { log, hooks } = this.#opts
    client.on('request', (accept, reject, name, info) => {
      if (name === 'tcpip-forward') {
        const bind = info as TcpipBindInfo
        // Any bind address and port mean "my tunnel" (README); port 0 is answered as 80, and
        // forwarded channels then carry 80, which is the port OpenSSH recorded for the forward.
        const spec = { bindAddr: bind.bindAddr, bindPort: bind.bindPort === 0 ? TUNNEL_PORT : bind.bindPort }
        const answer = (result: ForwardVerdict) => {
          if (!result.ok) {
            log.warn('tunnel_refused', { conn: binding.connId, user: binding.user, reason: result.reason })
            reject?.()
            return
          }
          accept?.(result.port)
        }
        const result = hooks.onForward(binding, client, spec)
        if (result instanceof Promise) result.then(answer, (err: Error) => answer({ ok: false, reason: `admission failed: ${err.message}` }))
        else answer(result)
      } else if (name === 'cancel-tcpip-forward') {
        const bind = info as TcpipBindInfo
        hooks.onCancelForward(binding, { bindAddr: bind.bindAddr, bindPort: bind.bindPort === 0 ? TUNNEL_PORT : bind.bindPort })
        accept?.()
      } else {
        refuse(log, binding, `global request ${name}`, reject)
      }
    })
    // Outbound connections from the gateway (`ssh -L`, direct-tcpip) would be SSRF into its network.
    client.on('tcpip', (_accept, reject, info) => refuse(log, binding, `direct-tcpip to ${info.destIP}:${info.destPort}`, reject))
    client.on('openssh.streamlocal', (_accept, reject) => refuse(log, binding, 'streamlocal', reject))
    client.on('session', (accept) => {
      const session = accept()
      // A session is only the status display for OpenSSH users: a pty is harmless, a shell shows
      // the tunnel's state; nothing is ever executed (no exec/subsystem/x11/agent listeners means
      // ssh2 refuses them, we log the attempt).
      session.on('pty', (ok) => ok?.())
      session.on('window-change', (ok) => ok?.())
      session.on('env', (ok) => ok?.())
      session.on('exec', (_ok, reject, info) => refuse(log, binding, `exec ${JSON.stringify(info.command).slice(0, 80)}`, reject))
      session.on('subsystem', (_ok, reject, info) => refuse(log, binding, `subsystem ${info.name}`, reject))
      session.on('sftp', (_ok, reject) => refuse(log, binding, 'sftp', reject))
      session.on('x11', (_ok, reject) => refuse(log, binding, 'x11', reject))
      session.on('auth-agent', (_ok, reject) => refuse(log, binding, 'auth-agent', reject))
      session.on('shell', (ok) => {
        const channel: ServerChannel | undefined = ok?.()
        if (channel === undefined) return
        channel.write(hooks.statusText(binding).replace(/\n/g, '\r\n'))
        // Whatever is typed is discarded; Ctrl-C / Ctrl-D close the display.
        channel.on('data', (data: Buffer) => {
          if (data.includes(3) || data.includes(4)) channel.close()
        })
      })
    })
  }
}

/**
 * Send a keep-alive ping every `intervalMs`, whatever arrives. ssh2's server pings only after an
 * interval with no packet from the peer; a peer busy uploading to us (an agent streaming a
 * download on a slow uplink) then hears nothing from the gateway, and the agent, which counts
 * bytes received as life, would take the gateway for dead (issue 14). Through ssh2's own packet
 * writer, as its keep-alive does (`ping()`: keepalive@openssh.com, want-reply).
 */
function speakEvery(client: Connection, intervalMs: number): void {
  if (!(intervalMs > 0)) return
  const protocol = (client as unknown as { _protocol?: { ping?: () => void } })._protocol
  if (typeof protocol?.ping !== 'function') return
  const timer = setInterval(() => {
    try {
      protocol.ping!()
    } catch {
      clearInterval(timer)
    }
  }, intervalMs)
  client.once('close', () => clearInterval(timer))
  client.once('end', () => clearInterval(timer))
}
