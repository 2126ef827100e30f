/**
 * /admin/stats and /metrics with several instances: cluster-wide totals with a per-instance
 * breakdown, metrics labelled with the instance, and a draining instance out of the directory
 * before its in-flight requests finish.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { admin, eventually } from '../support/admin.ts'
import { startCluster, untilStatus } from '../support/cluster.ts'
import { startAgent, startOrigin, stopAll, type GatewayProc } from '../support/processes.ts'
import { startRedis, type RedisServer } from '../support/redis.ts'
import { tokenFor } from '../support/tokens.ts'

let redis: RedisServer
let a: GatewayProc, b: GatewayProc
let alice: string

interface ClusterStatsBody {
  cluster: {
    instance: string
    totals: { instances: number; connections: number; tunnels: number; requests: number }
    instances: { id: string; url: string; self: boolean; draining: boolean; info: { tunnels: number; requests: number } }[]
  }
}

beforeAll(async () => {
  redis = await startRedis()
  const origin = await startOrigin()
  ;[a, b] = (await startCluster(redis, ['A', 'B'], { env: { SHUTDOWN_GRACE_PERIOD: '20000' } })) as [GatewayProc, GatewayProc]
  alice = await tokenFor('alice')
  await startAgent(a.url, alice, origin.url, { connections: 2 })
  await untilStatus(b, 'alice', alice, 200)
})
afterAll(async () => {
  await stopAll()
  await redis.stop()
})

test('/admin/stats on any instance shows cluster totals and each instance', async () => {
  for (let i = 0; i < 3; i++) expect((await fetch(`${b.url}/t/alice/hello`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(200)
  const body = await eventually('B to see A with 2 tunnels connections and its requests', async () => {
    const s = (await (await admin(b.url, '/admin/stats')).json()) as ClusterStatsBody
    return s.cluster.totals.tunnels === 2 && s.cluster.totals.requests >= 4 ? s : undefined
  })
  expect(body.cluster.instance).toBe('B')
  expect(body.cluster.totals.instances).toBe(2)
  expect(body.cluster.instances.map((i) => [i.id, i.self, i.url])).toEqual([
    ['A', false, a.url],
    ['B', true, b.url],
  ])
  expect(body.cluster.instances.find((i) => i.id === 'B')!.info.tunnels).toBe(0)
})

test('metrics carry burrow_instance, and the forwarding instance counts what it forwarded', async () => {
  const text = await (await admin(b.url, '/metrics')).text()
  expect(text).toMatch(/^burrow_uptime_seconds\{burrow_instance="B"\} /m)
  expect(text).toMatch(/^burrow_forwarded_requests_total\{burrow_instance="B"\} [1-9]/m)
})

test('a draining instance leaves the directory first: B stops forwarding to A while A finishes its in-flight request', async () => {
  const slow = fetch(`${b.url}/t/alice/slow?ms=3000`, { headers: { authorization: `Bearer ${alice}` } })
  await eventually('A to have the slow request in flight', async () => (((await (await admin(a.url, '/admin/stats')).json()) as { inflight: number }).inflight > 0 ? true : undefined))
  a.proc.kill('SIGTERM')
  // A left the directory: B finds no holder (404) while A still serves the slow request.
  await untilStatus(b, 'alice', alice, 404)
  const s = (await (await admin(b.url, '/admin/stats')).json()) as ClusterStatsBody
  expect(s.cluster.instances.find((i) => i.id === 'A')?.draining).toBe(true)
  const r = await slow
  expect(r.status).toBe(200)
  expect(await r.text()).toBe('slept 3000')
})
