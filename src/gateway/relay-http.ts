import type { Context } from 'hono'
import { ChannelPool } from '../proxy/channel-pool.ts'
import { exchange } from '../proxy/exchange.ts'
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
  const result = await exchange(
    channelPoolOf(conn),
    r.open,
    { method: c.req.method, path: r.path, headers: r.headers, body: body.stream },
    {
      timeouts: { head: svc.config.upstreamHeadTimeout, idle: svc.config.upstreamIdleTimeout },
      onCancel: (cancel) => {
        const offConsumer = runtime.onConsumerGone(c, () => cancel('the consumer went away'))
        const offConn = conn.onGone(cancel)
        return () => {
          offConsumer()
          offConn()
        }
      },
    },
    (end) => {
      // A response cut after its head: one line (the consumer saw an aborted body, not an error answer).
      if (end.cut !== undefined) svc.log.warn('upstream_cut', { conn: conn.id, user: tunnel, message: end.cut, bytesIn: end.bytesIn })
      conn.bytesIn += end.bytesIn
      conn.bytesOut += end.bytesOut
      svc.registry.traffic.record(tunnel, end.bytesIn, end.bytesOut)
      r.finished()
    },
  )
  if (!result.ok) {
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
