import type { Context } from 'hono'
import { holderAddress, holderOpener, type HolderAddress } from '../cluster/holder-opener.ts'
import { CLUSTER_FIELD_NAMES, CLUSTER_FIELDS, INTERNAL_PATH, routeField } from '../cluster/internal-fields.ts'
import type { Holder } from '../cluster/directory.ts'
import type { ChannelOpener } from '../proxy/channel-agent.ts'
import { requestHeadersForUpstream } from '../proxy/headers.ts'
import { errorResponse } from './errors.ts'
import type { RelayContext } from './relay-context.ts'
import { relayHttp } from './relay-http.ts'
import { relayWebSocket } from './relay-websocket.ts'
import type { HeaderEdits } from './routes/proxy.ts'
import { endRecord, type HeldRequest, type ObservedRequest } from './serve-held.ts'
import type { GatewayServices } from './services.ts'

/** One holder as the relay sees it: a stand-in for an agent connection, kept per URL so its idle sockets are reused. */
interface HolderConn {
  readonly id: string
  readonly goneReason: string | undefined
  bytesIn: number
  bytesOut: number
  readonly addr: HolderAddress
}
const holderConns = new Map<string, HolderConn>()
// Instances come and go (new ids on restart); stand-ins for URLs beyond this many are recreated.
const HOLDER_CONNS_MAX = 256

function holderConn(holder: Holder): HolderConn | undefined {
  let conn = holderConns.get(holder.url)
  if (conn !== undefined) return conn
  const addr = holderAddress(holder.url)
  if (addr === undefined) return undefined
  if (holderConns.size >= HOLDER_CONNS_MAX) holderConns.clear()
  conn = { id: `instance:${holder.id}`, goneReason: undefined, bytesIn: 0, bytesOut: 0, addr }
  holderConns.set(holder.url, conn)
  return conn
}

/**
 * Forward an admitted consumer request (credentials checked here) to an instance holding its
 * tunnel, over the holder's internal route, with the HTTP/1.1 exchange or the WebSocket bridge the
 * local path uses, on a plain TCP (or TLS) socket instead of an SSH channel: bodies stream both
 * ways, a consumer that leaves closes the socket and so ends the holder's exchange too. The holder
 * does the pool's admission, the service's Host, Location and Set-Cookie fixes; its answer reaches
 * the consumer as it is. The consumer's credentials are not sent on; the verified user is.
 *
 * Holders are tried in turn (starting at a random one, to spread the load) while they cannot be
 * reached and the request has no body (nothing was consumed yet); an unreachable holder is skipped
 * until its directory entry would have expired. 502 `upstream_unreachable` when none answers.
 */
export async function forwardToHolder(
  svc: GatewayServices,
  c: Context,
  holders: readonly Holder[],
  req: HeldRequest,
  verified: { identity: string | undefined; edits: HeaderEdits },
  o: ObservedRequest,
): Promise<Response> {
  const cluster = svc.cluster!
  const { clusterSecret } = await svc.opened()
  const { record, requestId } = o
  const ticket = svc.inflight.begin()
  let returned = false
  // The in-flight ticket goes back once, when the relay is over (the drain waits for it); the
  // request counts as forwarded, and its record (this instance's inspector and metrics) ends.
  const done = () => {
    if (returned) return
    returned = true
    ticket()
    if (record.conn !== undefined) cluster.forwarded.requests++
    endRecord(svc, record)
  }
  const bodiless = !hasBody(c)
  const start = holders.length > 1 ? Math.floor(Math.random() * holders.length) : 0
  let last: Response | undefined
  try {
    for (let i = 0; i < holders.length; i++) {
      const holder = holders[(start + i) % holders.length]!
      const conn = holderConn(holder)
      if (conn === undefined) continue
      record.conn = conn.id
      // Bytes count as forwarded traffic here; the holder counts them as its tunnel's.
      record.meterInto(cluster.forwarded, NOT_A_USER, conn)
      let unreachable = false
      const open = holderOpener(conn.addr)
      const tracked: ChannelOpener = (cb) =>
        open((err, stream) => {
          if (err !== undefined) unreachable = true
          cb(err, stream)
        })
      const drop = new Set(CLUSTER_FIELD_NAMES)
      for (const name of verified.edits.drop ?? []) drop.add(name)
      const headers = requestHeadersForUpstream(c.req.raw.headers, {
        clientIp: req.peer,
        proto: req.proto,
        host: req.consumerHost,
        upstreamHost: conn.addr.authority,
        drop,
        replace: verified.edits.replace,
        requestId,
      })
      headers.push(
        CLUSTER_FIELDS.auth, clusterSecret!,
        CLUSTER_FIELDS.hop, cluster.instanceId,
        CLUSTER_FIELDS.tunnel, req.tunnel,
        CLUSTER_FIELDS.path, req.path,
        CLUSTER_FIELDS.route, routeField(req.route),
        CLUSTER_FIELDS.identity, verified.identity ?? '-',
        CLUSTER_FIELDS.client, req.remote.address ?? '',
      )
      const relay: RelayContext = {
        svc,
        c,
        tunnel: req.tunnel,
        conn,
        open: tracked,
        path: conn.addr.prefix + INTERNAL_PATH,
        headers,
        upstreamHost: conn.addr.authority,
        // The holder rewrote Location and Set-Cookie for the consumer already.
        location: undefined,
        forwarded: cluster.forwarded,
        requestId,
        record,
        // A holder that could not be reached never started anything: the next one may take over.
        finished: () => {
          if (!unreachable) done()
        },
      }
      const response = await (req.wantsWebSocket ? relayWebSocket(relay) : relayHttp(relay))
      if (!unreachable) return response
      cluster.directory.invalidate(req.tunnel, { id: holder.id, unreachable: true })
      svc.log.warn('cluster_holder_unreachable', { instance: holder.id, url: holder.url, tunnel: req.tunnel })
      last = response
      if (!bodiless) break
    }
  } catch (err) {
    done()
    throw err
  }
  if (last === undefined) {
    record.status = 502
    record.error = 'upstream_unreachable'
  }
  done()
  return last ?? o.own(errorResponse('upstream_unreachable', `no instance holding tunnel ${req.tunnel} could be reached`))
}

// Forwarded bytes are not a user's tunnel traffic on this instance (the holder counts those).
const NOT_A_USER = { requests: 0, bytesIn: 0, bytesOut: 0 }

function hasBody(c: Context): boolean {
  const length = c.req.header('content-length')
  return (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
}
