import { listenSshTcp, type SshTcpListener } from '../transport/ssh-tcp-listener.ts'
import type { GatewayServices } from './services.ts'
import { agentConnection, CLOSE_FLUSH_MS } from './agent-connection.ts'
import { connectionEndsAt } from './token-expiry.ts'

/**
 * `SSH_PORT`: stock OpenSSH (`ssh -N -R 80:localhost:3000 -p 2222 alice@gw`) straight to the
 * gateway. The TCP twin of the `/tunnel` WebSocket route: the same SSH server, pool, limits,
 * refusals and keep-alive; only authentication differs (SSH keys or a token as the password,
 * instead of a bearer header), so a connection is tracked once SSH has authenticated it.
 */
export async function listenSshPort(svc: GatewayServices, port: number): Promise<SshTcpListener> {
  const { ssh } = await svc.opened()
  const { log } = svc
  return listenSshTcp({
    host: svc.config.host,
    port,
    log,
    authTimeoutMs: svc.config.sshHandshakeTimeout,
    admit: (remoteAddress) => svc.limits.agentIp(remoteAddress).ok,
    onSocket({ socket, authenticated }) {
      const id = svc.nextConnId()
      const remote = socket.remoteAddress
      let agent: ReturnType<typeof agentConnection> | undefined
      socket.on('data', () => {
        if (agent !== undefined) agent.conn.lastByteAt = Date.now()
      })
      socket.on('close', () => agent?.closed())
      ssh.inject(socket, {
        connId: id,
        onAuthenticated({ user }, method, exp) {
          authenticated()
          agent = agentConnection(
            svc,
            { id, user, agentId: undefined, isPublic: false, expiresAt: connectionEndsAt(exp), transport: 'tcp', remoteAddress: remote },
            (reason, _wsCode, options = {}) => {
              // The reason travels in the SSH DISCONNECT: that is the only text OpenSSH shows.
              if (!ssh.disconnect(id, reason)) socket.end()
              // A stale peer will not read it: cut at once instead of holding the socket.
              if (options.peerGone === true) socket.destroy()
              else setTimeout(() => socket.destroy(), CLOSE_FLUSH_MS)
            },
          )
          agent.opened({ auth: method })
        },
      })
    },
  })
}
