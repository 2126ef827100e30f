import type { Duplex } from 'node:stream'
import ssh2, { type AuthContext, type Connection, type Server, type ServerChannel, type TcpipBindInfo } from 'ssh2'
import type { Logger } from '../log/logger.ts'
import { SSH_ALGORITHMS } from './ssh-algorithms.ts'

/** Who a transport already authenticated (the WebSocket route checked the bearer token). */
export interface SessionBinding {
  readonly connId: string
  readonly user: string
}

/** A tunnel registration requested by `tcpip-forward`, echoed back on every forwarded channel. */
export interface ForwardSpec {
  readonly bindAddr: string
  readonly bindPort: number
}

/** What the gateway shell decides for each SSH session; the transport only carries it out. */
export interface SshSessionHooks {
  /** `tcpip-forward`: register the tunnel. A refusal's reason is given to the peer. */
  onForward(binding: SessionBinding, client: Connection, spec: ForwardSpec): { ok: true; port: number } | { ok: false; reason: string }
  onCancelForward(binding: SessionBinding, spec: ForwardSpec): void
  /** The text a `shell` request displays (OpenSSH users): URL and state, nothing executed. */
  statusText(binding: SessionBinding): string
  /** The SSH session ended (socket closed). */
  onClose(binding: SessionBinding): void
}

export interface SshServerOptions {
  readonly hostKey: string
  readonly keepaliveInterval: number
  readonly log: Logger
  readonly hooks: SshSessionHooks
}

/** Refused request kinds, logged once each: the SSH surface is only what a tunnel needs. */
function refuse(log: Logger, binding: SessionBinding, what: string, reject: (() => void) | undefined): void {
  log.warn('ssh_refused', { conn: binding.connId, user: binding.user, what })
  reject?.()
}

/**
 * The gateway's SSH server. Sockets are injected (a WebSocket duplex, or a TCP socket) together
 * with the user the transport authenticated; ssh2's 'connection' event only hands us its client,
 * so the binding is found again through the socket.
 */
export class SshGatewayServer {
  readonly #server: Server
  readonly #bindings = new WeakMap<object, SessionBinding>()
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
        keepaliveCountMax: 3,
      },
      (client, info) => this.#onClient(client, info.ip),
    )
    this.#server.on('error', (err: Error) => opts.log.warn('ssh_server_error', { message: err.message }))
  }

  /** Run SSH on `socket` for an already-authenticated user. */
  inject(socket: Duplex, binding: SessionBinding): void {
    this.#bindings.set(socket, binding)
    this.#server.injectSocket(socket as never)
  }

  #onClient(client: Connection, ip: string): void {
    // ssh2 keeps the injected socket as `_sock`; that is how we find which user it carries.
    const socket = (client as unknown as { _sock: object })._sock
    const binding = this.#bindings.get(socket)
    const { log, hooks } = this.#opts
    if (binding === undefined) {
      log.error('ssh_unbound_socket', { ip })
      client.end()
      return
    }
    const forwards: ForwardSpec[] = []
    client.on('error', (err: Error) => log.debug('ssh_client_error', { conn: binding.connId, message: err.message }))
    client.on('close', () => {
      hooks.onClose(binding)
    })
    client.on('authentication', (ctx: AuthContext) => this.#authenticate(ctx, binding))
    client.on('ready', () => log.debug('ssh_ready', { conn: binding.connId, user: binding.user }))
    client.on('request', (accept, reject, name, info) => {
      if (name === 'tcpip-forward') {
        const spec = { bindAddr: (info as TcpipBindInfo).bindAddr, bindPort: (info as TcpipBindInfo).bindPort }
        const result = hooks.onForward(binding, client, spec)
        if (!result.ok) {
          log.warn('tunnel_refused', { conn: binding.connId, user: binding.user, reason: result.reason })
          reject?.()
          return
        }
        forwards.push(spec)
        accept?.(result.port)
      } else if (name === 'cancel-tcpip-forward') {
        const spec = { bindAddr: (info as TcpipBindInfo).bindAddr, bindPort: (info as TcpipBindInfo).bindPort }
        hooks.onCancelForward(binding, spec)
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

  #authenticate(ctx: AuthContext, binding: SessionBinding): void {
    // The transport already authenticated the user (bearer token on the WebSocket); SSH auth only
    // has to name the same user.
    if (ctx.username === binding.user) ctx.accept()
    else ctx.reject([])
  }
}
