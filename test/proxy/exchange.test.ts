import { describe, expect, test } from 'bun:test'
import { Duplex } from 'node:stream'
import type { ChannelOpener } from '../../src/proxy/channel-agent.ts'
import { ChannelPool } from '../../src/proxy/channel-pool.ts'
import { CONSUMER_LEFT, SLOW_MS } from '../../src/proxy/attempt.ts'
import { exchange, type ExchangeEnd, type ExchangeOptions } from '../../src/proxy/exchange.ts'
import type { UpstreamResponse } from '../../src/proxy/upstream-response.ts'

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
const timeouts: ExchangeOptions = { timeouts: { head: 2_000, idle: 2_000 } }
const get = { method: 'GET', path: '/x', headers: ['host', 'svc'], body: null }

/** The body of a relayed response as text, whether it came as bytes or as a stream. */
export async function textOf(r: UpstreamResponse): Promise<string> {
  if (r.body === null) return ''
  if (r.body instanceof Uint8Array) return Buffer.from(r.body).toString('latin1')
  return Buffer.from(await new Response(r.body).arrayBuffer()).toString('latin1')
}

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
    expect(await textOf(result.response)).toBe('hello')
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
    expect(r1.ok && (await textOf(r1.response))).toBe('hello')
    await Bun.sleep(0)
    expect(pool.size).toBe(1)
    const r2 = await exchange(pool, open, get, timeouts, () => {})
    expect(r2.ok && (await textOf(r2.response))).toBe('hello')
    expect(opened()).toBe(2)
    expect(fresh.received.join('')).toContain('GET /x HTTP/1.1')
    pool.clear()
  })

  test('a response without Connection keep-alive semantics (Connection: close) is not pooled', async () => {
    const pool = new ChannelPool()
    const ch = new ScriptedChannel(() => 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok')
    const r = await exchange(pool, opener([ch]).open, get, timeouts, () => {})
    expect(r.ok && (await textOf(r.response))).toBe('ok')
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
    expect(await textOf(r.response)).toBe('until-close')
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
    expect(r.ok && (await textOf(r.response))).toBe('hello')
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

/** A channel whose far end answers every request with `reply`, in one write. */
class OneShot extends Duplex {
  /** `afterMs`: answer that much later (a service thinking before its head). */
  constructor(
    private readonly reply: string | Buffer,
    private readonly afterMs = 0,
  ) {
    super()
  }
  override _read(): void {}
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    const answer = () => this.push(typeof this.reply === 'string' ? Buffer.from(this.reply, 'latin1') : this.reply)
    if (this.afterMs > 0) setTimeout(answer, this.afterMs)
    else setImmediate(answer)
    cb()
  }
}

/** A channel that takes the request and answers nothing (a service still thinking). */
class Silent extends Duplex {
  override _read(): void {}
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    cb()
  }
}

const once = (reply: string | Buffer) => (cb: (err: Error | undefined, ch?: Duplex) => void) => cb(undefined, new OneShot(reply))

describe('exchange() with a malformed or hostile response: 502, the channel dropped, never a throw', () => {
  test.each([
    ['a Content-Length that disagrees with a chunked body', 'HTTP/1.1 200 OK\r\ncontent-length: 50\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\nok'],
    ['a bad chunk size right after the head, in the same packet', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n'],
    ['a chunk without its CRLF right after the head (once answered nothing, ever)', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n'],
    ['status 999 (Bun left the consumer hanging)', 'HTTP/1.1 999 Nine\r\ncontent-length: 2\r\n\r\nok'],
    ['status 000 (Node made it a 200)', 'HTTP/1.1 000 Zero\r\ncontent-length: 2\r\n\r\nok'],
    ['status 099', 'HTTP/1.1 099 Low\r\ncontent-length: 2\r\n\r\nok'],
    ['status 600', 'HTTP/1.1 600 High\r\ncontent-length: 2\r\n\r\nok'],
    ['a BEL and an ESC in a value (crashed a Deno gateway)', 'HTTP/1.1 200 OK\r\nx-a: a\x07\x1bb\r\ncontent-length: 2\r\n\r\nok'],
    ['a DEL in a value', 'HTTP/1.1 200 OK\r\nx-a: a\x7fb\r\ncontent-length: 2\r\n\r\nok'],
    ['a header name that is not a token', 'HTTP/1.1 200 OK\r\nx(a): b\r\ncontent-length: 2\r\n\r\nok'],
    ['5,000 header fields (reset consumers on Bun and Node)', `HTTP/1.1 200 OK\r\n${Array.from({ length: 5000 }, (_, i) => `x-h${i}: v`).join('\r\n')}\r\ncontent-length: 2\r\n\r\nok`],
    ['a 101 to a request that did not ask to switch', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n'],
  ])('%s', async (_name, reply) => {
    let ended: ExchangeEnd | undefined
    const result = await exchange(new ChannelPool(), once(reply), get, timeouts, (e) => (ended = e))
    expect(result).toMatchObject({ ok: false, code: 'upstream_unreachable' })
    if (!result.ok) expect(result.message).toMatch(/malformed/)
    await Bun.sleep(0)
    expect(ended?.ok).toBe(false)
  })

  test('256 header fields still pass: the limit is a bound, not a habit', async () => {
    const reply = `HTTP/1.1 200 OK\r\n${Array.from({ length: 255 }, (_, i) => `x-h${i}: v`).join('\r\n')}\r\ncontent-length: 2\r\n\r\nok`
    const r = await exchange(new ChannelPool(), once(reply), get, timeouts, () => {})
    expect(r.ok && r.response.headers.length).toBe(512)
  })
})

describe('exchange() relays what the service said, byte for byte', () => {
  test('header bytes >= 0x80 (a UTF-8 filename) arrive unchanged as a latin1 byte string', async () => {
    const utf8 = Buffer.from('attachment; filename="文件.txt"', 'utf8')
    const reply = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-disposition: '), utf8, Buffer.from('\r\ncontent-length: 2\r\n\r\nok')])
    const r = await exchange(new ChannelPool(), once(reply), get, timeouts, () => {})
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const value = r.response.headers[r.response.headers.indexOf('content-disposition') + 1]!
    expect(Buffer.from(value, 'latin1').equals(utf8)).toBe(true)
  })

  test('status, reason phrase and duplicate fields keep their order; hop-by-hop fields are dropped', async () => {
    const reply = 'HTTP/1.1 201 Made It\r\nset-cookie: a=1\r\nconnection: keep-alive, x-private\r\nx-private: secret\r\nkeep-alive: timeout=5\r\nset-cookie: b=2\r\ncontent-length: 0\r\n\r\n'
    const r = await exchange(new ChannelPool(), once(reply), get, timeouts, () => {})
    expect(r.ok && { status: r.response.status, text: r.response.statusText, headers: r.response.headers }).toEqual({
      status: 201,
      text: 'Made It',
      headers: ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-length', '0'],
    })
  })

  test('103 Early Hints come along as an interim response; 100 Continue does not', async () => {
    const reply = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'
    const r = await exchange(new ChannelPool(), once(reply), get, timeouts, () => {})
    expect(r.ok && r.response.interim).toEqual([{ status: 103, headers: ['link', '</style.css>; rel=preload'] }])
  })

  test("a chunked body's trailers arrive once it has ended; framing fields among them are dropped", async () => {
    const reply = 'HTTP/1.1 200 OK\r\ntrailer: x-checksum\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-checksum: abc\r\ncontent-length: 9\r\n\r\n'
    const r = await exchange(new ChannelPool(), once(reply), get, timeouts, () => {})
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(await textOf(r.response)).toBe('ok')
    expect(await r.response.trailers).toEqual(['x-checksum', 'abc'])
    expect(r.response.headers).toEqual(['trailer', 'x-checksum'])
  })

  test('bytes after a complete response: the response stands, the channel is never reused', async () => {
    const ch = new OneShot('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil')
    const pool = new ChannelPool()
    const r = await exchange(pool, (cb) => cb(undefined, ch), get, timeouts, () => {})
    expect(r.ok && (await textOf(r.response))).toBe('ok')
    await Bun.sleep(0)
    expect(pool.size).toBe(0)
    expect(ch.destroyed).toBe(true)
  })

  test('a HEAD answer keeps its Content-Length and has no body', async () => {
    const r = await exchange(new ChannelPool(), once('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n'), { ...get, method: 'HEAD' }, timeouts, () => {})
    expect(r.ok && { body: r.response.body, headers: r.response.headers }).toEqual({ body: null, headers: ['content-length', '1234'] })
  })
})

describe('exchange() ends at once when cancelled (the consumer left, the agent connection died)', () => {
  test('before the head: 502 with the reason, the channel is destroyed (the service sees the close), onEnd once', async () => {
    const ch = new Silent()
    let cancel: ((reason: string) => void) | undefined
    let unsubscribed = 0
    const ends: ExchangeEnd[] = []
    const pending = exchange(new ChannelPool(), (cb) => cb(undefined, ch), get, {
      timeouts: { head: 60_000, idle: 0 },
      onCancel: (fn) => {
        cancel = fn
        return () => unsubscribed++
      },
    }, (e) => ends.push(e))
    await Bun.sleep(SLOW_MS + 20)
    cancel!('the agent connection was closed (no sign of life (stale))')
    expect(await pending).toEqual({ ok: false, code: 'upstream_unreachable', message: 'the agent connection was closed (no sign of life (stale))' })
    await Bun.sleep(0)
    expect(ch.destroyed).toBe(true)
    expect(ends).toEqual([{ ok: false, bytesIn: 0, bytesOut: 0 }])
    expect(unsubscribed).toBe(1)
  })

  test('the hook is asked only once the head has taken SLOW_MS; a head that comes sooner never asks it', async () => {
    let asked = 0
    const onCancel = () => (asked++, () => {})
    const fast = await exchange(new ChannelPool(), (cb) => cb(undefined, new OneShot(OK)), get, { timeouts: { head: 1000, idle: 0 }, onCancel }, () => {})
    expect(fast.ok).toBe(true)
    await Bun.sleep(SLOW_MS + 50)
    expect(asked).toBe(0)
    const slow = await exchange(new ChannelPool(), (cb) => cb(undefined, new OneShot(OK, SLOW_MS + 50)), get, { timeouts: { head: 1000, idle: 0 }, onCancel }, () => {})
    expect(slow.ok).toBe(true)
    expect(asked).toBe(1)
  })

  test('a request with a body is watched from the start: a consumer leaving mid-upload is the consumer\'s fault, not the service\'s', async () => {
    let cancel: ((reason: string) => void) | undefined
    // An upload still on its way (chunked, never finished).
    const upload = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array(1024)) })
    const pending = exchange(new ChannelPool(), (cb) => cb(undefined, new Silent()), { method: 'POST', path: '/up', headers: ['host', 'svc'], body: upload }, {
      timeouts: { head: 60_000, idle: 0 },
      onCancel: (fn) => ((cancel = fn), () => {}),
    }, () => {})
    await Bun.sleep(5)
    expect(cancel).toBeDefined()
    cancel!(CONSUMER_LEFT)
    expect(await pending).toMatchObject({ ok: false, code: 'upstream_unreachable', consumerFault: true })
  })

  test('while streaming: the body errors (never ends as if complete) and the channel is destroyed', async () => {
    const ch = new OneShot('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n', SLOW_MS + 20)
    let cancel: ((reason: string) => void) | undefined
    let ended: ExchangeEnd | undefined
    const r = await exchange(new ChannelPool(), (cb) => cb(undefined, ch), get, { timeouts: { head: 1000, idle: 0 }, onCancel: (fn) => ((cancel = fn), () => {}) }, (e) => (ended = e))
    expect(r.ok).toBe(true)
    if (!r.ok || !(r.response.body instanceof ReadableStream)) throw new Error('expected a stream')
    const reader = r.response.body.getReader()
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('hello')
    cancel!('the agent disconnected')
    // The stream errors without a reason (a runtime's server would print one per request); the
    // reason is in what the exchange reports.
    let outcome = 'ended cleanly'
    await reader.read().then(() => {}, () => (outcome = 'errored'))
    expect(outcome).toBe('errored')
    expect(ch.destroyed).toBe(true)
    await Bun.sleep(0)
    expect(ended).toEqual({ ok: false, cut: 'the agent disconnected', bytesIn: 5, bytesOut: 0 })
  })

  test('a consumer that cancels the body stream closes the channel', async () => {
    const ch = new OneShot('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n')
    let ended: ExchangeEnd | undefined
    const r = await exchange(new ChannelPool(), (cb) => cb(undefined, ch), get, timeouts, (e) => (ended = e))
    if (!r.ok || !(r.response.body instanceof ReadableStream)) throw new Error('expected a stream')
    await r.response.body.cancel()
    await Bun.sleep(0)
    expect(ch.destroyed).toBe(true)
    expect(ended).toEqual({ ok: false, cut: 'the consumer went away', bytesIn: 5, bytesOut: 0 })
  })

  test('a channel closed without EOF (the service reset its connection) says so', async () => {
    const ch = new Silent()
    const pending = exchange(new ChannelPool(), (cb) => cb(undefined, ch), get, timeouts, () => {})
    await Bun.sleep(5)
    ch.destroy()
    expect(await pending).toEqual({ ok: false, code: 'upstream_unreachable', message: 'the local service reset the connection' })
  })

  test('a service that closes its side without answering (EOF) says so', async () => {
    const ch = new Silent()
    const pending = exchange(new ChannelPool(), (cb) => cb(undefined, ch), get, timeouts, () => {})
    await Bun.sleep(5)
    ch.push(null)
    expect(await pending).toEqual({ ok: false, code: 'upstream_unreachable', message: 'the local service closed the connection without a response' })
  })

  test('an agent that refuses the channel: its reason is in the 502', async () => {
    const r = await exchange(new ChannelPool(), (cb) => cb(new Error('connect to 127.0.0.1:9 failed: ECONNREFUSED')), get, timeouts, () => {})
    expect(r).toEqual({ ok: false, code: 'upstream_unreachable', message: 'the agent could not reach its local service (connect to 127.0.0.1:9 failed: ECONNREFUSED)' })
  })
})

describe('exchange() timers measure the service, not the consumer', () => {
  test('a consumer that stops reading for longer than the idle timeout still gets the whole body', async () => {
    // The head and a chunk, then 40 more chunks a moment later: the stream holds 8, so the channel
    // is paused while the consumer sleeps through 3 idle timeouts; then the end of the body.
    const chunk = (i: number) => `5\r\nc${String(i).padStart(4, '0')}\r\n`
    const ch = new Silent()
    const r = await exchange(new ChannelPool(), (cb) => {
      cb(undefined, ch)
      setImmediate(() => ch.push(Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk(0)}`)))
      setTimeout(() => ch.push(Buffer.from(Array.from({ length: 40 }, (_, i) => chunk(i + 1)).join(''))), 20)
      setTimeout(() => ch.push(Buffer.from('0\r\n\r\n')), 40)
    }, get, { timeouts: { head: 1000, idle: 100 } }, () => {})
    if (!r.ok || !(r.response.body instanceof ReadableStream)) throw new Error('expected a stream')
    await Bun.sleep(350)
    const text = await new Response(r.response.body).text()
    expect(text.length).toBe(41 * 5)
  })

  test('an upload that takes longer than the head timeout is not cut: the head timer starts once the body is sent', async () => {
    let seen = ''
    const service = new (class extends Duplex {
      override _read(): void {}
      override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
        seen += chunk.toString('latin1')
        if (seen.endsWith('0\r\n\r\n')) setImmediate(() => this.push(Buffer.from('HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n')))
        cb()
      }
    })()
    let n = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await Bun.sleep(60)
        if (++n > 5) return c.close()
        c.enqueue(new TextEncoder().encode('part'))
      },
    })
    const r = await exchange(new ChannelPool(), (cb) => cb(undefined, service), { method: 'POST', path: '/up', headers: [], body }, { timeouts: { head: 100, idle: 100 } }, () => {})
    expect(r.ok && r.response.status).toBe(201)
  })

  test("the service's Keep-Alive timeout bounds how long its channel is kept (less a second)", async () => {
    for (const [timeout, kept] of [[1, 0], [3, 1]] as const) {
      const pool = new ChannelPool()
      const ch = new OneShot(`HTTP/1.1 200 OK\r\nkeep-alive: timeout=${timeout}\r\ncontent-length: 2\r\n\r\nok`)
      const r = await exchange(pool, (cb) => cb(undefined, ch), get, timeouts, () => {})
      expect(r.ok && (await textOf(r.response))).toBe('ok')
      await Bun.sleep(0)
      expect({ timeout, kept: pool.size }).toEqual({ timeout, kept })
      pool.clear()
    }
  })
})
