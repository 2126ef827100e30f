import type { Connection } from 'ssh2'
import { slotKeyOf } from '../cluster/directory.ts'
import { admit, connectionsOf, touch, type Limits } from '../pool/index.ts'
import { refusalNotice } from '../transport/close-codes.ts'
import type { ForwardSpec, ForwardVerdict } from '../transport/ssh-server.ts'
import type { GatewayServices } from './services.ts'

/**
 * Admission of a new tunnel connection with REDIS_URL: the local pool's rule, then the cluster's
 * limit (at most `maxConnectionsPerUser` connections of a user on all instances together), then
 * the registration.
 *
 * 1. The local takeover rule is previewed (the pure `admit` on the current pool state): a refusal
 *    there is final, and the connections it would retire here (the agent's own dead slot, stale
 *    ones at the limit) are named.
 * 2. The cluster script drops the same agent's same slot on any instance (rule 1 across the
 *    cluster: the instance that held it may be dead), those retired here and expired entries
 *    (a dead instance's: rule 2 across the cluster, by expiry), counts the user's connections
 *    everywhere and takes a slot if one is free (atomic: two instances cannot take the last one).
 * 3. The registry registers the connection for real (it may retire those connections now); if
 *    the pool changed meanwhile and refuses, the cluster slot is given back.
 */
export async function admitClustered(svc: GatewayServices, limits: Limits, connId: string, client: Connection, spec: ForwardSpec): Promise<ForwardVerdict> {
  const { registry } = svc
  const cluster = svc.cluster!
  const conn = registry.get(connId)
  const port = spec.bindPort === 0 ? 80 : spec.bindPort
  // A second forward on a registered connection maps to the same tunnel: nothing to admit.
  if (conn === undefined || conn.forward !== undefined) return local()

  // As the registry will judge it: the user's connections' lastSeen brought up to date first.
  let state = registry.state
  for (const c of connectionsOf(state, conn.user)) {
    const live = registry.get(c.id)
    if (live !== undefined) state = touch(state, c.id, live.lastByteAt)
  }
  const preview = admit(state, { id: connId, user: conn.user, agentId: conn.agentId, slot: conn.slot }, Date.now(), limits)
  if (!preview.ok) return local()
  const slotKey = slotKeyOf(conn.agentId, conn.slot)
  const verdict = await cluster.directory.admit(conn.user, connId, limits.maxConnectionsPerUser, slotKey, preview.retired.map((r) => r.id))
  if (!verdict.ok) {
    svc.log.info('cluster_limit', { conn: connId, user: conn.user, count: verdict.count, limit: verdict.limit })
    const notice = refusalNotice({ code: 'user_connection_limit', max: verdict.limit })
    registry.get(connId)?.close(notice.reason, notice.code)
    return { ok: false, reason: notice.reason }
  }
  if (registry.get(connId) === undefined) {
    // The agent went away while Redis answered.
    void cluster.directory.release(conn.user, connId)
    return { ok: false, reason: 'the connection closed during admission' }
  }
  const result = local()
  if (!result.ok) void cluster.directory.release(conn.user, connId)
  else cluster.directory.changed()
  return result

  function local(): ForwardVerdict {
    const r = registry.register(connId, client, spec)
    if (r.ok) return { ok: true, port }
    const notice = refusalNotice(r.refusal)
    registry.get(connId)?.close(notice.reason, notice.code)
    return { ok: false, reason: notice.reason }
  }
}
