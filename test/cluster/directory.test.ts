/**
 * The directory's scripts against a private redis-server: holders are found and forgotten when
 * their instance stops refreshing, admission is atomic across instances, and the internal
 * route's secret is derived, never the token secret itself.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { clusterSecret, isClusterSecret } from '../../src/cluster/cluster-secret.ts'
import { ClusterDirectory, type LocalHoldings } from '../../src/cluster/directory.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { eventually } from '../support/admin.ts'
import { startRedis, type RedisServer } from '../support/redis.ts'

let redis: RedisServer
const open: ClusterDirectory[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await Promise.all(open.map((d) => d.stop()))
  await redis.stop()
})

function directory(id: string, holdings: Partial<LocalHoldings> = {}): ClusterDirectory {
  const d = new ClusterDirectory({
    redisUrl: redis.url,
    instanceId: id,
    log: silentLogger,
    holdings: () => ({ tunnels: new Map(), conns: [], info: {}, draining: false, ...holdings }),
  })
  open.push(d)
  return d
}

describe('cluster secret', () => {
  const token = 'test-secret-0123456789-abcdefghijklmnop'
  test('derived from the token secret: the same on every instance, never the token secret itself', () => {
    const derived = clusterSecret(undefined, token)
    expect(derived).toBe(clusterSecret(undefined, token))
    expect(derived).not.toBe(token)
    expect(derived).not.toContain(token)
    expect(derived).not.toBe(clusterSecret(undefined, token + 'x'))
    expect(derived.length).toBe(43)
  })
  test('BURROW_CLUSTER_SECRET wins; only the exact value passes', () => {
    const s = 'c'.repeat(32)
    expect(clusterSecret(s, token)).toBe(s)
    expect(isClusterSecret(s, s)).toBe(true)
    expect(isClusterSecret(s + ' ', s)).toBe(false)
    expect(isClusterSecret(undefined, s)).toBe(false)
  })
})

describe('directory', () => {
  test("a holder is found by others (not by itself), then forgotten within the entry's expiry once it stops refreshing", async () => {
    const x = directory('x1', { tunnels: new Map([['alice', true]]) })
    const y = directory('y1')
    await x.start('http://10.0.0.1:8080')
    await y.start('http://10.0.0.2:8080')
    expect(await y.holders('alice')).toEqual([{ id: 'x1', url: 'http://10.0.0.1:8080', isPublic: true }])
    expect(await x.holders('alice')).toEqual([])
    expect(await y.holders('bob')).toEqual([])
    await x.stop()
    await eventually(
      'x1 to expire',
      async () => {
        y.invalidate('alice')
        return (await y.holders('alice')).length === 0 ? true : undefined
      },
      10_000,
      200,
    )
  })

  test('leave() takes a holder out at once (drain)', async () => {
    const x = directory('x2', { tunnels: new Map([['carol', false]]) })
    const y = directory('y2')
    await x.start('http://10.0.0.3:8080')
    await y.start('http://10.0.0.4:8080')
    expect((await y.holders('carol')).map((h) => h.id)).toEqual(['x2'])
    await x.leave()
    y.invalidate('carol')
    expect(await y.holders('carol')).toEqual([])
    expect((await y.instances()).find((i) => i.id === 'x2')?.draining).toBe(true)
  })

  test('admission is atomic across instances: 12 concurrent attempts from two instances, limit 3, exactly 3 admitted', async () => {
    const p = directory('p1')
    const q = directory('q1')
    await p.start('http://10.0.0.5:8080')
    await q.start('http://10.0.0.6:8080')
    const verdicts = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? p : q).admit('dave', `c${i}`, 3)))
    expect(verdicts.filter((v) => v.ok).length).toBe(3)
    expect(verdicts.filter((v) => !v.ok).every((v) => v.count === 3)).toBe(true)
    // A released slot is free at once.
    const first = verdicts.findIndex((v) => v.ok)
    await (first % 2 === 0 ? p : q).release('dave', `c${first}`)
    expect((await q.admit('dave', 'fresh', 3)).ok).toBe(true)
    expect((await q.admit('dave', 'one-more', 3)).ok).toBe(false)
  })

  test('connections the local rule retires to make room leave the count in the same step (the takeover seam)', async () => {
    const p = directory('p2')
    await p.start('http://10.0.0.7:8080')
    for (const id of ['e1', 'e2', 'e3']) expect((await p.admit('erin', id, 3)).ok).toBe(true)
    expect((await p.admit('erin', 'e4', 3)).ok).toBe(false)
    expect(await p.admit('erin', 'e4', 3, '', ['e1'])).toEqual({ ok: true, count: 3 })
  })

  test("an agent's slot redialled on another instance replaces its entry there (its old instance may be dead)", async () => {
    const p = directory('p3')
    const q = directory('q3')
    await p.start('http://10.0.0.8:8080')
    await q.start('http://10.0.0.9:8080')
    expect((await p.admit('fay', 'f1', 3, 'agentX:0')).ok).toBe(true)
    expect((await p.admit('fay', 'f2', 3, 'agentX:1')).ok).toBe(true)
    expect((await p.admit('fay', 'f3', 3, 'agentY:0')).ok).toBe(true)
    // Another agent's new slot: refused. Agent X's slot 1 again, on q: admitted in place of f2.
    expect((await q.admit('fay', 'g1', 3, 'agentY:1')).ok).toBe(false)
    expect(await q.admit('fay', 'g2', 3, 'agentX:1')).toEqual({ ok: true, count: 3 })
    await p.release('fay', 'f1')
    expect(await q.admit('fay', 'g3', 3, 'agentY:1')).toEqual({ ok: true, count: 3 })
  })
})
