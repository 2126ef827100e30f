import type { Context } from 'hono'
import { ChannelPool } from '../proxy/channel-pool.ts'
import { CONSUMER_LEFT, exchange, type UpstreamResult } from '../proxy/exchange.ts'
import { fieldValue } from '../proxy/upstream-response.ts'
import type { RuntimeAdapter } from '../runtime/index.ts'
import type { Judged } from './circuit-breakers.ts'
import { ERROR_STATUS, errorResponse } from './errors.ts'
import { relayFailed, type RelayContext } from './relay-context.ts'
import { withRequestId } from './request-id.ts'
import { fixResponseFields } from './response-fixups.ts'

// Idle kept-alive channels per agent connection; they go with the connection (WeakMap).
const channelPools = new WeakMap<object, ChannelPool>()
function channelPoolOf(conn: object): ChannelPool {
  let pool = channelPools.get(conn)
  if (pool === undefined) channelPools.set(conn, (pool = new ChannelPool()))
  return pool
}

/**
 * Close `conn`'s idle kept-alive channels now: its agent cancelled its forward (it is stopping),
 * and waits for its open channels to end; an idle one would hold it for IDLE_MS for nothing.
 */
export function dropIdleChannels(conn: object): void {
  // Exchanges still running keep the old pool and close their channel when done; a new forward
  // on the same connection starts a fresh one.
  channelPools.get(conn)?.clear()
  channelPools.delete(conn)
}

/**
 * An HTTP request to the local service and its response back (proxy/exchange.ts does the
 * HTTP/1.1). The consumer leaving, or the agent connection dying, ends the exchange at once: the
 * service sees its connection close (an LLM stops generating for nobody). Bytes are counted as
 * they flow (into the request's record and the totals); the slot is given back when the exchange
 * is over, after the body, not at the head. The exchange runs under the tunnel's circuit breaker.
 */
export async function relayHttp(r: RelayContext): Promise<Response> {
  const { svc, c, conn, tunnel, record, requestId } = r
  const runtime = svc.runtime
  const body = requestBody(runtime, c)
  if (!body.ok) return relayFailed(r, 'bad_request', body.message)
  // The slot is given back once both are known: how the exchange ended (after the body) and what
  // the consumer was answered (the record's status), whichever comes first.
  let over = false
  let settled = false
  const close = () => over && settled && r.finished()
  // A consumer that leaves (a closed tab, a client timeout, the end of a load test) is routine, not
  // a fault of the service or the tunnel: one info line, never a warning or an upstream_* code.
  const run = () =>
    exchange(
      channelPoolOf(conn),
      r.open,
      { method: c.req.method, path: r.path, headers: r.headers, body: body.stream },
      {
        timeouts: { head: svc.config.upstreamHeadTimeout, idle: svc.config.upstreamIdleTimeout },
        onCancel: (cancel) => runtime.onConsumerGone(c, () => cancel(CONSUMER_LEFT)),
        connGone: () => conn.goneReason,
        meter: record,
      },
      (end) => {
        // A response cut after its head: one line (the consumer saw an aborted body, not an error answer).
        if (end.cut !== undefined) {
          if (end.cut === CONSUMER_LEFT) svc.log.info('consumer_gone', { requestId, conn: conn.id, user: tunnel, during: 'body', bytesIn: end.bytesIn })
          else svc.log.error('upstream_cut', { requestId, conn: conn.id, user: tunnel, reason: end.cut, bytesIn: end.bytesIn })
        }
        over = true
        close()
      },
    )
  // Under the tunnel's circuit breaker: only failures to reach the service count, not its answers.
  // Forwarded to another instance: the holder's breaker judges its service, not this one.
  const result = r.forwarded === undefined ? await svc.breakers.run(tunnel, run, judgeExchange) : await run()
  if (result === undefined) {
    // The breaker opened (or a trial began) while this request waited for its slot: nothing was sent.
    const gate = svc.breakers.admit(tunnel)
    return relayFailed(r, 'circuit_open', gate.ok ? `tunnel ${tunnel}'s circuit breaker is open` : gate.message, { 'retry-after': String(gate.ok ? 1 : gate.retryAfterS) })
  }
  if (!result.ok) {
    record.status = ERROR_STATUS[result.code]
    record.error = result.code
    settled = true
    close()
    if (result.message === CONSUMER_LEFT) {
      svc.log.info('consumer_gone', { requestId, conn: conn.id, user: tunnel, during: 'head' })
      // Nobody reads this answer; the runtime has closed the connection.
      return withRequestId(errorResponse(result.code, result.message), requestId)
    }
    svc.log.warn('upstream_error', { requestId, conn: conn.id, user: tunnel, code: result.code, message: result.message })
    return withRequestId(errorResponse(result.code, result.message), requestId)
  }
  const response = result.response
  // Streamed: a body of unannounced length still arriving after the head (chunked or until close:
  // SSE, LLM tokens). A short chunked answer that came whole with its head is not.
  svc.observe.answered(record, response.status, response.body instanceof ReadableStream && fieldValue(response.headers, 'content-length') === undefined)
  settled = true
  close()
  fixResponseFields(response.headers, r.location, requestId)
  return runtime.respond(c, response)
}

/**
 * An exchange failed the breaker's way when the service could not be reached or did not answer,
 * not when the consumer left, nor when the service answered something malformed (its answer).
 */
function judgeExchange(result: UpstreamResult): Judged {
  // Only the service failing counts: not the consumer leaving, not the service's own (malformed)
  // answer, not the agent's connection going away (a restarted agent must not find its tunnel
  // refused for the cool-down because of requests cut when the old one went).
  if (result.ok || result.consumerFault === true || result.serviceAnswered === true || result.tunnelLost === true) return SUCCESS
  return { upstreamFailed: true, reason: result.code }
}
const SUCCESS: Judged = { upstreamFailed: false }

/**
 * The consumer's request body for the local service. Bun's and Deno's servers drop the body of a
 * GET or HEAD (their Request objects follow the Fetch standard), so such a request is refused with
 * a clear reason rather than forwarded without its body; Node's keeps it (search APIs send them).
 */
function requestBody(runtime: RuntimeAdapter, c: Context): { ok: true; stream: ReadableStream<Uint8Array> | null } | { ok: false; message: string } {
  const method = c.req.method
  if (method !== 'GET' && method !== 'HEAD') return { ok: true, stream: c.req.raw.body }
  const sized = c.req.header('content-length')
  const hasBody = (sized !== undefined && sized !== '0') || c.req.header('transfer-encoding') !== undefined
  if (!hasBody) return { ok: true, stream: null }
  const stream = runtime.getOrHeadBody?.(c)
  if (stream === undefined) {
    return { ok: false, message: `Cannot forward the body of a ${method} request: the gateway's ${runtime.name} server drops it (send it as POST, or run the gateway on Node)` }
  }
  return { ok: true, stream }
}
