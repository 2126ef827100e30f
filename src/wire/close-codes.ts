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

/**
 * The reason an idle surplus connection is retired with (code 1000). The agent reads it as "do not
 * redial this one until load needs it" (README: idle connections), so the two never churn.
 */
export const IDLE_SURPLUS_REASON = 'idle surplus connection'

/** How a refusal at the user's connection limit begins: `user connection limit (3)`. */
export const USER_LIMIT_REASON = 'user connection limit'
