/**
 * What the gateway and the agent agree on at the wire, one home each: name and Host syntax, SSH
 * fingerprints, WebSocket close codes. Imports nothing of Burrow; everything may import it.
 */
export { HOST_VALUE, TUNNEL_NAME } from './names.ts'
export { FINGERPRINT, fingerprintOfBlob } from './fingerprint.ts'
export { IDLE_SURPLUS_REASON, USER_LIMIT_REASON, WS_CLOSE, type CloseNotice } from './close-codes.ts'
export { AGENT_LIMIT_HEADERS, readAgentLimits, type AgentLimits } from './agent-limits.ts'
export { MISSED_KEEPALIVES } from './keepalive.ts'
export { REQUEST_ID, REQUEST_ID_FIELD, REQUEST_ID_MAX, peekRequestId } from './request-id.ts'
