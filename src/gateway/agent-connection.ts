import type { LiveConn, LiveConnInit } from './live-conn.ts'
import { newLiveConn } from './live-conn.ts'
import type { GatewayServices } from './services.ts'
import { atTime } from './token-expiry.ts'
import { WS_CLOSE } from '../wire/index.ts'

// How long a closing connection gets to flush its SSH disconnect before its socket is cut.
export const CLOSE_FLUSH_MS = 250

/**
 * What every transport does with an agent connection, whatever carried it (a WebSocket, a TCP
 * socket on SSH_PORT): one handler per session, as chisel keeps one. `opened()` tracks it and
 * logs it; `closed()` forgets it when its transport closes (it leaves the pool at once, and what
 * rides on it ends). `closeTransport` is the transport's own way to hang up with a reason.
 */
export function agentConnection(svc: GatewayServices, init: LiveConnInit, closeTransport: LiveConn['close']) {
  const conn = newLiveConn(init, closeTransport)
  let stopExpiry: (() => void) | undefined
  return {
    conn,
    opened(extra: Record<string, unknown> = {}): void {
      svc.registry.track(conn)
      // A token's connection ends with the token (README: token expiry): an agent re-reads its
      // --token-file and comes back with the new one; without one it stops and says why.
      if (init.expiresAt !== undefined) {
        stopExpiry = atTime(init.expiresAt, () => {
          svc.log.info('token_expired', { conn: conn.id, user: conn.user })
          conn.close('token expired', WS_CLOSE.policy)
        })
      }
      svc.log.info('agent_connected', { conn: conn.id, user: conn.user, agent: conn.agentId, slot: conn.slot, remote: conn.remoteAddress, transport: conn.transport, ...extra })
    },
    closed(): void {
      stopExpiry?.()
      svc.registry.closed(conn.id)
      svc.log.info('agent_disconnected', { conn: conn.id, user: conn.user })
    },
  }
}
