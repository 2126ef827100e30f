import type { ClusterDirectory, InstanceView } from './directory.ts'

// Figures each instance publishes (gateway/cluster-wiring.ts) that add up across instances.
const SUMMED = ['connections', 'tunnels', 'busy', 'queued', 'inflight', 'requests', 'bytesIn', 'bytesOut'] as const

/** The `cluster` part of /admin/stats. */
export interface ClusterStats {
  /** This instance's id. */
  readonly instance: string
  /** Sums over the live instances; `requests` and bytes count each request once, where its tunnel is held. */
  readonly totals: { readonly instances: number } & Record<(typeof SUMMED)[number], number>
  /** Each live instance's own snapshot (at most ENTRY_TTL_MS old), sorted by id. */
  readonly instances: readonly (InstanceView & { readonly self: boolean })[]
}

/**
 * Cluster-wide totals with a per-instance breakdown, from the snapshots every instance publishes
 * with its directory entry (so a dead instance drops out within the entry's expiry). Empty
 * (`instances: 0`) while Redis is unreachable.
 */
export async function clusterStats(directory: ClusterDirectory): Promise<ClusterStats> {
  const instances = await directory.instances()
  const totals = { instances: instances.length } as { instances: number } & Record<(typeof SUMMED)[number], number>
  for (const key of SUMMED) totals[key] = 0
  for (const inst of instances) {
    for (const key of SUMMED) {
      const v = inst.info[key]
      if (typeof v === 'number' && Number.isFinite(v)) totals[key] += v
    }
  }
  return { instance: directory.instanceId, totals, instances: instances.map((i) => ({ ...i, self: i.id === directory.instanceId })) }
}
