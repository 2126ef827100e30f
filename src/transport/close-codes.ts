import type { CloseReason, PoolError } from '../pool/index.ts'

/**
 * The WebSocket close codes the gateway sends agents (RFC 6455 §7.4.1), in one place. The reason
 * text travels with them (and in the SSH DISCONNECT); agents print it.
 */
export const WS_CLOSE = {
  /** Closed on purpose, nothing wrong: retired, kicked by an admin. */
  normal: 1000,
  /** The gateway is going away (shutdown), or the peer stopped answering keep-alives. */
  goingAway: 1001,
  /** Text frames: a tunnel carries SSH in binary frames only. */
  unsupportedData: 1003,
  /** A refusal: over a limit, not SSH, a protocol error, a handshake too slow, a peer not reading. */
  policy: 1008,
  /** A frame over the frame limit. */
  tooBig: 1009,
  /** The gateway could not carry on (a bug). */
  internal: 1011,
} as const

/** A close as an agent sees it: the code, and the reason it prints. */
export interface CloseNotice {
  readonly code: number
  readonly reason: string
}

/** Why `tcpip-forward` was refused, for the agent: `user connection limit (3)` with 1008. */
export function refusalNotice(error: PoolError | { readonly code: 'unknown_connection' }): CloseNotice {
  switch (error.code) {
    case 'user_connection_limit':
      return { code: WS_CLOSE.policy, reason: `user connection limit (${error.max})` }
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
      return { code: WS_CLOSE.normal, reason: 'idle surplus connection' }
    case 'admin':
      return { code: WS_CLOSE.normal, reason: 'closed by admin' }
    case 'shutdown':
      return { code: WS_CLOSE.goingAway, reason: 'server shutting down' }
  }
}
