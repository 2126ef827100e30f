import type { CloseReason, PoolError } from '../pool/index.ts'
import { IDLE_SURPLUS_REASON, USER_LIMIT_REASON, WS_CLOSE, type CloseNotice } from '../wire/close-codes.ts'

export { WS_CLOSE, type CloseNotice } from '../wire/close-codes.ts'

/** Why `tcpip-forward` was refused, for the agent: `user connection limit (3)` with 1008. */
export function refusalNotice(error: PoolError | { readonly code: 'unknown_connection' }): CloseNotice {
  switch (error.code) {
    case 'user_connection_limit':
      return { code: WS_CLOSE.policy, reason: `${USER_LIMIT_REASON} (${error.max})` }
    case 'draining':
      return { code: WS_CLOSE.goingAway, reason: 'server shutting down' }
    case 'duplicate_connection':
      return { code: WS_CLOSE.policy, reason: 'duplicate connection' }
    case 'unknown_connection':
      return { code: WS_CLOSE.internal, reason: 'unknown connection' }
  }
}

/** Why the gateway closed a serving connection: the pool's reasons, an admin's kick, the shutdown. */
export function retiredNotice(reason: CloseReason | 'admin' | 'shutdown'): CloseNotice {
  switch (reason) {
    case 'replaced':
      return { code: WS_CLOSE.normal, reason: 'replaced by a newer connection of the same agent' }
    case 'stale':
      return { code: WS_CLOSE.normal, reason: 'no sign of life (stale)' }
    case 'idle':
      return { code: WS_CLOSE.normal, reason: IDLE_SURPLUS_REASON }
    case 'admin':
      return { code: WS_CLOSE.normal, reason: 'closed by admin' }
    case 'shutdown':
      return { code: WS_CLOSE.goingAway, reason: 'server shutting down' }
  }
}
