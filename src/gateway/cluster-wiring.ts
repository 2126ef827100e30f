import { randomBytes } from 'node:crypto'
import type { ClusterNode } from '../cluster/cluster-node.ts'
import { ClusterDirectory, slotKeyOf, type LocalHoldings } from '../cluster/directory.ts'
import type { Logger } from '../log/logger.ts'
import type { GatewayServices } from './services.ts'

/** This instance's part in a cluster: a directory in Redis at `redisUrl`, under `instanceId` (random when unset). */
export function clusterNode(redisUrl: string, instanceId: string | undefined, log: Logger, holdings: () => LocalHoldings): ClusterNode {
  const id = instanceId ?? `gw-${randomBytes(4).toString('hex')}`
  return { instanceId: id, directory: new ClusterDirectory({ redisUrl, instanceId: id, log, holdings }), forwarded: { requests: 0, bytesIn: 0, bytesOut: 0 } }
}

/**
 * What this instance publishes at each refresh: the tunnels it has live connections for (public
 * if any of them is), every admitted connection (its cluster-wide slot stays alive), and the
 * figures other instances' /admin/stats show for it.
 */
export function holdingsOf(svc: GatewayServices): LocalHoldings {
  const tunnels = new Map<string, boolean>()
  const conns: { user: string; id: string; slotKey: string }[] = []
  for (const conn of svc.registry.list()) {
    if (conn.forward === undefined || conn.closing !== undefined) continue
    conns.push({ user: conn.user, id: conn.id, slotKey: slotKeyOf(conn.agentId, conn.slot) })
    tunnels.set(conn.user, tunnels.get(conn.user) === true || conn.isPublic)
  }
  const pool = svc.registry.stats()
  const traffic = svc.registry.traffic.total
  return {
    tunnels,
    conns,
    draining: svc.isDraining(),
    info: {
      startedAt: new Date(svc.startedAt).toISOString(),
      runtime: svc.runtime.name,
      users: pool.users.length,
      connections: pool.connections,
      tunnels: pool.tunnels,
      busy: pool.busy,
      queued: pool.queued,
      inflight: svc.inflight.count,
      requests: traffic.requests,
      bytesIn: traffic.bytesIn,
      bytesOut: traffic.bytesOut,
      forwarded: { ...svc.cluster?.forwarded },
    },
  }
}
