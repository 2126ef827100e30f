import { describe, expect, test } from 'bun:test'
import { Duplex } from 'node:stream'
import { ChannelPool } from '../../src/proxy/channel-pool.ts'

/** A duplex standing in for an SSH channel: open both ways until told otherwise. */
function channel(): Duplex {
  return new Duplex({ read() {}, write(_c, _e, cb) { cb() } })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('ChannelPool', () => {
  test('take() hands back the most recently recycled channel first, and each only once', () => {
    const pool = new ChannelPool()
    const a = channel()
    const b = channel()
    pool.recycle(a)
    pool.recycle(b)
    expect(pool.size).toBe(2)
    expect(pool.take()).toBe(b)
    expect(pool.take()).toBe(a)
    expect(pool.take()).toBeUndefined()
    pool.clear()
  })

  test('a channel idle for longer than idleMs is destroyed by the sweep; a fresher one stays', async () => {
    const pool = new ChannelPool({ idleMs: 140 })
    const old = channel()
    pool.recycle(old)
    await sleep(100)
    const fresh = channel()
    pool.recycle(fresh)
    const deadline = Date.now() + 1_000
    while (!old.destroyed && Date.now() < deadline) await sleep(5)
    expect(old.destroyed).toBe(true)
    expect(fresh.destroyed).toBe(false)
    expect(pool.size).toBe(1)
    while (!fresh.destroyed && Date.now() < deadline) await sleep(5)
    expect(fresh.destroyed).toBe(true)
    expect(pool.size).toBe(0)
  })

  test('an idle channel that receives a byte, ends or closes leaves the pool and is destroyed', async () => {
    const pool = new ChannelPool()
    const talking = channel()
    const ending = channel()
    const closing = channel()
    for (const c of [talking, ending, closing]) pool.recycle(c)
    talking.push(Buffer.from('x'))
    ending.push(null)
    closing.destroy()
    await sleep(10)
    expect(pool.size).toBe(0)
    expect(talking.destroyed).toBe(true)
    expect(ending.destroyed).toBe(true)
    expect(pool.take()).toBeUndefined()
  })

  test('a channel taken out keeps working: the pool has no listener left on it', () => {
    const pool = new ChannelPool()
    const c = channel()
    pool.recycle(c)
    expect(pool.take()).toBe(c)
    c.push(Buffer.from('reply'))
    expect(c.destroyed).toBe(false)
    expect(c.listenerCount('data')).toBe(0)
    expect(c.listenerCount('close')).toBe(0)
  })
})
