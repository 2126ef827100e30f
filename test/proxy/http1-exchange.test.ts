import { describe, expect, test } from 'bun:test'
import { Duplex } from 'node:stream'
import type { ChannelOpener } from '../../src/proxy/channel-agent.ts'
import { ChannelPool } from '../../src/proxy/channel-pool.ts'
import { exchange, type ExchangeEnd } from '../../src/proxy/http1-exchange.ts'

/**
 * A channel whose far end is a scripted local service: `reply(requestText)` returns the bytes to
 * answer with, or 'close' to hang up without answering (a service closing its idle connection).
 */
class ScriptedChannel extends Duplex {
  readonly received: string[] = []
  constructor(private readonly reply: (request: string) => string | 'close') {
    super()
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    const text = chunk.toString('latin1')
    this.received.push(text)
    const answer = this.reply(text)
    setImmediate(() => {
      if (answer === 'close') {
        this.push(null)
        this.destroy()
      } else this.push(Buffer.from(answer, 'latin1'))
    })
    cb()
  }
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'
const timeouts = { head: 2_000, idle: 2_000 }
const get = { method: 'GET', path: '/x', headers: ['host', 'svc'], body: null }

function opener(channels: ScriptedChannel[]): { open: ChannelOpener; opened: () => number } {
  let n = 0
  return { open: (cb) => cb(undefined, channels[n++]), opened: () => n }
}

describe('HTTP/1.1 exchange over a channel', () => {
  test('writes an origin-form request and streams the response; the channel goes back to the pool', async () => {
    const ch = new ScriptedChannel(() => OK)
    const pool = new ChannelPool()
    const { open } = opener([ch])
    let end: ExchangeEnd | undefined
    const result = await exchange(pool, open, get, timeouts, (e) => (end = e))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(await result.response.text()).toBe('hello')
    await Bun.sleep(0)
    expect(ch.received.join('')).toBe('GET /x HTTP/1.1\r\nhost: svc\r\n\r\n')
    expect(end).toEqual({ ok: true, bytesIn: 5, bytesOut: 0 })
    expect(pool.size).toBe(1)
    pool.clear()
  })

  test('a reused channel that the service closes before answering is retried once on a fresh channel', async () => {
    const pool = new ChannelPool()
    // The second request lands on the kept-alive channel just as the service hangs up on it.
    let calls = 0
    const dying = new ScriptedChannel(() => (++calls === 1 ? OK : 'close'))
    const fresh = new ScriptedChannel(() => OK)
    const { open, opened } = opener([dying, fresh])
    const r1 = await exchange(pool, open, get, timeouts, () => {})
    expect(r1.ok && (await r1.response.text())).toBe('hello')
    await Bun.sleep(0)
    expect(pool.size).toBe(1)
    const r2 = await exchange(pool, open, get, timeouts, () => {})
    expect(r2.ok && (await r2.response.text())).toBe('hello')
    expect(opened()).toBe(2)
    expect(fresh.received.join('')).toContain('GET /x HTTP/1.1')
    pool.clear()
  })

  test('a response without Connection keep-alive semantics (Connection: close) is not pooled', async () => {
    const pool = new ChannelPool()
    const ch = new ScriptedChannel(() => 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok')
    const r = await exchange(pool, opener([ch]).open, get, timeouts, () => {})
    expect(r.ok && (await r.response.text())).toBe('ok')
    await Bun.sleep(0)
    expect(pool.size).toBe(0)
    expect(ch.destroyed).toBe(true)
  })

  test('a body with no length is read until the service closes, and the channel is not reused', async () => {
    const pool = new ChannelPool()
    const ch = new ScriptedChannel(() => 'HTTP/1.1 200 OK\r\n\r\nuntil-close')
    const r = await exchange(pool, opener([ch]).open, get, timeouts, () => {})
    expect(r.ok).toBe(true)
    if (!r.ok) return
    setTimeout(() => ch.push(null), 20)
    expect(await r.response.text()).toBe('until-close')
    expect(pool.size).toBe(0)
  })

  test('100 Continue is skipped; the final response is the one returned', async () => {
    const ch = new ScriptedChannel(() => 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n')
    const r = await exchange(new ChannelPool(), opener([ch]).open, get, timeouts, () => {})
    expect(r.ok && r.response.status).toBe(201)
  })

  test('garbage instead of a status line ends in upstream_unreachable, not a crash', async () => {
    const ch = new ScriptedChannel(() => 'SSH-2.0-not-http\r\n\r\n')
    const r = await exchange(new ChannelPool(), opener([ch]).open, get, timeouts, () => {})
    expect(r).toMatchObject({ ok: false, code: 'upstream_unreachable' })
  })

  test('an unsized streamed body goes out chunked', async () => {
    const ch = new ScriptedChannel((req) => (req.endsWith('0\r\n\r\n') ? OK : ''))
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('abc'))
        c.enqueue(new TextEncoder().encode('de'))
        c.close()
      },
    })
    const r = await exchange(new ChannelPool(), opener([ch]).open, { method: 'POST', path: '/up', headers: [], body }, timeouts, () => {})
    expect(r.ok && (await r.response.text())).toBe('hello')
    expect(ch.received.join('')).toBe('POST /up HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n')
  })
})

describe('request head bytes', () => {
  test('header values go out byte for byte (Fetch header strings are latin1 byte strings), not re-encoded as UTF-8', async () => {
    const ch = new ScriptedChannel(() => OK)
    const r = await exchange(new ChannelPool(), opener([ch]).open, { method: 'GET', path: '/', headers: ['x-name', '\u00e9'], body: null }, timeouts, () => {})
    expect(r.ok).toBe(true)
    const sent = Buffer.from(ch.received.join(''), 'latin1')
    expect(sent.includes(Buffer.from([0x78, 0x2d, 0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0d, 0x0a]))).toBe(true)
  })
})
