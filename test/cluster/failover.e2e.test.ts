/**
 * SIGKILL of an instance holding one of an agent's two connections: requests through a third
 * instance succeed again (the directory forgets the dead one, the forwarder skips it), and the
 * agent restores its lost connection on an instance it was not on.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connectionsOf, eventually } from '../support/admin.ts'
import { startCluster, untilStatus } from '../support/cluster.ts'
import { startAgent, startOrigin, stopAll, type AgentProc, type GatewayProc } from '../support/processes.ts'
import { startRedis, type RedisServer } from '../support/redis.ts'
import { tokenFor } from '../support/tokens.ts'

let redis: RedisServer
let a: GatewayProc, b: GatewayProc, c: GatewayProc
let alice: string
let agent: AgentProc

const ready = async (gw: GatewayProc) => (await connectionsOf(gw.url, 'alice')).filter((x) => x.state === 'ready').length

beforeAll(async () => {
  redis = await startRedis()
  const origin = await startOrigin()
  ;[a, b, c] = (await startCluster(redis, ['A', 'B', 'C'])) as [GatewayProc, GatewayProc, GatewayProc]
  alice = await tokenFor('alice')
  agent = await startAgent(`${a.url},${b.url},${c.url}`, alice, origin.url, { connections: 2 })
})
afterAll(async () => {
  await stopAll()
  await redis.stop()
})

test('an agent given three instances puts its two connections on two of them', async () => {
  expect([await ready(a), await ready(b), await ready(c)]).toEqual([1, 1, 0])
  await untilStatus(c, 'alice', alice, 200)
})

test('SIGKILL of A: requests through C succeed again, and the agent reconnects its lost connection to C', async () => {
  const killedAt = Date.now()
  a.proc.kill('SIGKILL')
  await a.proc.exited()
  await untilStatus(c, 'alice', alice, 200)
  const servedAgainMs = Date.now() - killedAt
  await eventually('the agent to hold a connection on C', async () => ((await ready(c)) === 1 ? true : undefined), 30_000)
  expect(await ready(b)).toBe(1)
  // The status line said so: down to one connection (reconnecting), then both again.
  await agent.proc.waitFor(/reconnecting[^\n]*[\s\S]*connected \(2\/2\)/, 30_000)
  // Every request through B and C is answered from here on (the directory no longer names A).
  for (let i = 0; i < 20; i++) {
    for (const gw of [b, c]) expect((await fetch(`${gw.url}/t/alice/hello`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(200)
  }
  console.log(`failover: served through C again ${servedAgainMs} ms after SIGKILL of A`)
})
