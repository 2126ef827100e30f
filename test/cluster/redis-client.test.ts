/**
 * The Redis client (ioredis) on each runtime against a private redis-server: plain commands with
 * a TTL, and a Lua script sent as EVALSHA (the directory and cluster admission are Lua scripts).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { runtimeCommand, startProcess, stopAll, type RuntimeName } from '../support/processes.ts'
import { startRedis, type RedisServer } from '../support/redis.ts'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await stopAll()
  await redis.stop()
})

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  test(`ioredis runs commands and EVALSHA scripts on ${runtime}`, async () => {
    const [cmd, args] = runtimeCommand(runtime, 'test/fixtures/redis-client-check.ts', [redis.url])
    const proc = startProcess(cmd, args)
    const line = await proc.waitFor(/\{"first".*\}/, 30_000)
    expect(await proc.exited()).toBe(0)
    const r = JSON.parse(line[0])
    expect(r.second - r.first).toBe(3)
    expect(r).toMatchObject({ serverTime: true, ttlOk: true, evalsha: true })
  })
}
