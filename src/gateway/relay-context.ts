import type { Context } from 'hono'
import type { ChannelOpener } from '../proxy/channel-agent.ts'
import type { LocationContext } from '../proxy/response-rewrite.ts'
import { ERROR_STATUS, errorResponse, type ErrorCode } from './errors.ts'
import { withRequestId } from './request-id.ts'
import type { ForwardedTraffic } from '../cluster/cluster-node.ts'
import type { LiveConn } from './live-conn.ts'
import type { RequestRecord } from './request-record.ts'
import type { GatewayServices } from './services.ts'

/**
 * One admitted consumer request on its way to a local service: who asked, which connection
 * carries it, how to open a channel there, the fields the service gets, and how the response's
 * Location and cookies are rewritten. `finished()` gives back the channel slot and the in-flight
 * ticket and closes the request's record, exactly once whatever the path (it is idempotent).
 */
export interface RelayContext {
  readonly svc: GatewayServices
  readonly c: Context
  readonly tunnel: string
  /** What carries the request: an agent connection, or (forwarded) another instance holding the tunnel. */
  readonly conn: Pick<LiveConn, 'id' | 'goneReason' | 'bytesIn' | 'bytesOut'>
  readonly open: ChannelOpener
  /** Origin-form target for the service: the prefix stripped, the query kept. */
  readonly path: string
  /** Request fields for the service, filtered (proxy/headers.ts). */
  readonly headers: string[]
  /** The Host the service gets (gateway/upstream-host.ts). */
  readonly upstreamHost: string | undefined
  readonly location: LocationContext | undefined
  /** The request's id (gateway/request-id.ts): in every log line about it and on every answer. */
  readonly requestId: string
  /** What the inspector and the metrics learn about it; bytes are counted into it as they flow. */
  readonly record: RequestRecord
  finished(): void
  /**
   * Set when the request is forwarded to another instance holding the tunnel: its bytes count
   * here, not as this instance's tunnel traffic (the holder counts them as its own).
   */
  readonly forwarded?: ForwardedTraffic
}

/** Burrow answers itself instead of the service: the record says so, the slot goes back, the answer carries the id. */
export function relayFailed(r: RelayContext, code: ErrorCode, message: string, headers?: Record<string, string>): Response {
  r.record.status = ERROR_STATUS[code]
  r.record.error = code
  r.finished()
  return withRequestId(errorResponse(code, message, headers), r.requestId)
}
