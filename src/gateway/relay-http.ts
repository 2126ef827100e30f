import type { Context } from 'hono'
import { ChannelPool } from '../proxy/channel-pool.ts'
import { CONSUMER_LEFT, exchange } from '../proxy/exchange.ts'
import type { RuntimeAdapter } from '../runtime/index.ts'
import { errorResponse } from './errors.ts'
import type { RelayContext } from './relay-context.ts'
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
 * service sees its connection close (an LLM stops generating for nobody). Bytes are counted
 * and the slot is given back when the exchange is over, after the body, not at the head.
 */
export async function relayHttp(r: RelayContext): Promise<Response> {
  const { svc, c, conn, tunnel } = r
  const runtime = svc.runtime
  const body = requestBody(runtime, c)
  if (!body.ok) {
    r.finished()
    return errorResponse('bad_request', body.message)
  }
  // A consumer that leaves (a closed tab, a client timeout, the end of a load test) is routine, not
  // a fault of the service or the tunnel: one info line, never a warning or an upstream_* code.
  const result = await exchange(
    channelPoolOf(conn),
    r.open,
    { method: c.req.method, path: r.path, headers: r.headers, body: body.stream },
    {
      timeouts: { head: svc.config.upstreamHeadTimeout, idle: svc.config.upstreamIdleTimeout },
      onCancel: (cancel) =>
        runtime.onConsumerGone(c, () => cancel(CONSUMER_LEFT)),
      connGone: () => conn.goneReason,
    },
    (end) => {
      // A response cut after its head: one line (the consumer saw an aborted body, not an error answer).
      if (end.cut !== undefined) {
        if (end.cut === CONSUMER_LEFT) svc.log.info('consumer_gone', { conn: conn.id, user: tunnel, during: 'body', bytesIn: end.bytesIn })
        else svc.log.warn('upstream_cut', { conn: conn.id, user: tunnel, message: end.cut, bytesIn: end.bytesIn })
      }
      conn.bytesIn += end.bytesIn
      conn.bytesOut += end.bytesOut
      svc.registry.traffic.record(tunnel, end.bytesIn, end.bytesOut)
      r.finished()
    },
  )
  if (!result.ok) {
    if (result.message === CONSUMER_LEFT) {
      svc.log.info('consumer_gone', { conn: conn.id, user: tunnel, during: 'head' })
      // Nobody reads this answer; the runtime has closed the connection.
      return errorResponse(result.code, result.message)
    }
    svc.log.warn('upstream_error', { conn: conn.id, user: tunnel, code: result.code, message: result.message })
    return errorResponse(result.code, result.message)
  }
  fixResponseFields(result.response.headers, r.location)
  return runtime.respond(c, result.response)
}

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
