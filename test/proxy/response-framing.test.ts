import { describe, expect, test } from 'bun:test'
import { Duplex } from 'node:stream'
import { HTTPParser } from 'http-parser-js'
import { ChannelPool } from '../../src/proxy/channel-pool.ts'
import { exchange } from '../../src/proxy/http1-exchange.ts'
import { assertSoundFraming, strictResponseParser } from '../../src/proxy/response-framing.ts'

describe('assertSoundFraming()', () => {
  test.each([
    ['one Content-Length', ['content-length', '12']],
    ['chunked', ['Transfer-Encoding', 'Chunked']],
    ['neither (read until close)', ['x-a', 'b']],
  ])('accepts %s', (_name, raw) => {
    expect(() => assertSoundFraming(raw)).not.toThrow()
  })

  test.each([
    ['two Content-Length fields, even equal', ['content-length', '2', 'Content-Length', '2'], /more than one/],
    ['a negative Content-Length', ['content-length', '-1'], /not a number/],
    ['a Content-Length with junk', ['content-length', '2x'], /not a number/],
    ['Content-Length with Transfer-Encoding', ['content-length', '50', 'transfer-encoding', 'chunked'], /both/],
    ['a coding other than chunked', ['transfer-encoding', 'gzip, chunked'], /other than chunked/],
    ['Transfer-Encoding twice', ['transfer-encoding', 'chunked', 'transfer-encoding', 'chunked'], /other than chunked/],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => assertSoundFraming(raw)).toThrow(message)
  })
})

describe('strictResponseParser()', () => {
  const parse = (text: string) => {
    const parser = strictResponseParser()
    const bodies: string[] = []
    let complete = false
    parser[HTTPParser.kOnHeadersComplete] = () => 0
    parser[HTTPParser.kOnBody] = (chunk, offset, length) => void bodies.push(chunk.subarray(offset, offset + length).toString())
    parser[HTTPParser.kOnMessageComplete] = () => void (complete = true)
    const r = parser.execute(Buffer.from(text, 'latin1'))
    return { error: r instanceof Error ? r.message : undefined, body: bodies.join(''), complete }
  }
  const head = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'

  test('reads chunks, extensions and the last chunk as before', () => {
    expect(parse(`${head}2;name=v\r\nok\r\n0\r\n\r\n`)).toEqual({ error: undefined, body: 'ok', complete: true })
  })

  test('a chunk size that is not hex is an error, not the last chunk (http-parser-js reads "zz" as 0)', () => {
    expect(parse(`${head}zz\r\nok\r\n0\r\n\r\n`)).toMatchObject({ error: 'invalid chunk size', complete: false })
    expect(parse(`${head}-2\r\nok\r\n0\r\n\r\n`)).toMatchObject({ error: 'invalid chunk size', complete: false })
  })
})

/** A channel whose far end answers every request with `reply`, in one write. */
class OneShot extends Duplex {
  constructor(private readonly reply: string) {
    super()
  }
  override _read(): void {}
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    setImmediate(() => this.push(Buffer.from(this.reply, 'latin1')))
    cb()
  }
}

describe('exchange() with a malformed response', () => {
  const get = { method: 'GET', path: '/x', headers: ['host', 'svc'], body: null }
  test.each([
    ['a Content-Length that disagrees with a chunked body', 'HTTP/1.1 200 OK\r\ncontent-length: 50\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\nok'],
    ['a bad chunk size right after the head, in the same packet', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n'],
    ['a chunk without its CRLF right after the head (once answered nothing, ever)', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n'],
  ])('%s ends in upstream_unreachable', async (_name, reply) => {
    let ended = false
    const result = await exchange(new ChannelPool(), (cb) => cb(undefined, new OneShot(reply)), get, { head: 2000, idle: 2000 }, () => (ended = true))
    expect(result).toMatchObject({ ok: false, code: 'upstream_unreachable' })
    await Bun.sleep(0)
    expect(ended).toBe(true)
  })
})
