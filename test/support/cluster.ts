/**
 * Several gateway processes sharing one private redis-server (test/support/redis.ts), as the
 * cluster tests run them: each on 127.0.0.1 with its own port, data dir and BURROW_INSTANCE_ID.
 */
import { clusterSecret } from '../../src/cluster/cluster-secret.ts'
import { eventually } from './admin.ts'
import { startGateway, TEST_SECRET, type GatewayProc, type RuntimeName } from './processes.ts'
import type { RedisServer } from './redis.ts'

/** The internal route's secret the test gateways derive from the test token secret. */
export const TEST_CLUSTER_SECRET = clusterSecret(undefined, TEST_SECRET)

/** Start one gateway per id, all on `redis`. */
export function startCluster(redis: RedisServer, ids: readonly string[], opts: { runtime?: RuntimeName; env?: Record<string, string> } = {}): Promise<GatewayProc[]> {
  return Promise.all(ids.map((id) => startGateway(opts.runtime ?? 'bun', { REDIS_URL: redis.url, BURROW_INSTANCE_ID: id, ...opts.env })))
}

/** Wait until `gw` answers `path` of `tunnel` with `status` (the directory has caught up). */
export async function untilStatus(gw: GatewayProc, tunnel: string, token: string, status: number, path = '/hello', ms = 15_000): Promise<void> {
  await eventually(
    () => `${gw.url}/t/${tunnel}${path} to answer ${status}`,
    async () => ((await fetch(`${gw.url}/t/${tunnel}${path}`, { headers: { authorization: `Bearer ${token}` } })).status === status ? true : undefined),
    ms,
    50,
  )
}
