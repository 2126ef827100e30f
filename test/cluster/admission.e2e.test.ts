/**
 * The per-user connection limit (3) holds across instances: three connections spread over A and
 * B, a fourth on C is refused with the pool's own reason; when one of the three goes, its slot is
 * free on every instance at once.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connectionsOf, eventually } from '../support/admin.ts'
import { startCluster, untilStatus } from '../support/cluster.ts'
import { startAgent, startOrigin, stopAll, type GatewayProc, type Origin } from '../support/processes.ts'
import { startRedis, type RedisServer } from '../support/redis.ts'
import { tokenFor } from '../support/tokens.ts'

let redis: RedisServer
let origin: Origin
let a: GatewayProc, b: GatewayProc, c: GatewayProc
let bob: string

beforeAll(async () => {
  redis = await startRedis()
  origin = await startOrigin()
  ;[a, b, c] = (await startCluster(redis, ['A', 'B', 'C'])) as [GatewayProc, GatewayProc, GatewayProc]
  bob = await tokenFor('bob')
})
afterAll(async () => {
  await stopAll()
  await redis.stop()
})

test("a user's 4th connection is refused on C when the first three are on A and B, and admitted once one of them goes", async () => {
  await startAgent(a.url, bob, origin.url, { connections: 2 })
  const onB = await startAgent(b.url, bob, origin.url, { connections: 1 })
  const fourth = await startAgent(c.url, bob, origin.url, { connections: 1, wait: false })
  await fourth.proc.waitFor(/user connection limit \(3\)/, 30_000)
  // C holds no connection of bob's, yet serves bob's tunnel through A and B.
  expect((await connectionsOf(c.url, 'bob')).filter((x) => x.state === 'ready')).toEqual([])
  expect((await connectionsOf(a.url, 'bob')).length + (await connectionsOf(b.url, 'bob')).length).toBe(3)
  await untilStatus(c, 'bob', bob, 200)

  // One of the three goes: its slot is given back at once, and the 4th agent gets in on its retry.
  onB.proc.kill('SIGTERM')
  await onB.proc.exited()
  await fourth.proc.waitFor(/connected \(1\/1\)/, 45_000)
  await eventually('C to hold one ready connection of bob', async () => ((await connectionsOf(c.url, 'bob')).filter((x) => x.state === 'ready').length === 1 ? true : undefined))
})
