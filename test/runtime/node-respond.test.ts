import { describe, expect, test } from 'bun:test'
import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { respondOnNode } from '../../src/runtime/node-respond.ts'

/** What respondOnNode does to Node's ServerResponse, recorded. */
class FakeResponse extends EventEmitter {
  calls: unknown[][] = []
  destroyed = false
  writableFinished = false
  writeEarlyHints(h: unknown) {
    this.calls.push(['hints', h])
  }
  writeHead(status: number, text: string | undefined, headers: string[]) {
    this.calls.push(['head', status, text, headers])
  }
  write(chunk: Uint8Array) {
    this.calls.push(['write', Buffer.from(chunk).toString()])
    return true
  }
  addTrailers(t: unknown) {
    this.calls.push(['trailers', t])
  }
  end(chunk?: Uint8Array) {
    this.calls.push(chunk === undefined ? ['end'] : ['end', Buffer.from(chunk).toString()])
    this.writableFinished = true
  }
  destroy() {
    this.destroyed = true
    this.calls.push(['destroy'])
  }
}

const stream = (parts: string[], fail = false) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p))
      if (fail) c.error(undefined)
      else c.close()
    },
  })
const base = { status: 200, statusText: 'OK', interim: [] as { status: number; headers: string[] }[], trailers: Promise.resolve([] as string[]) }
const settle = () => new Promise((r) => setTimeout(r, 5))

describe('respondOnNode()', () => {
  test('103 Early Hints first, the fields as a flat list (order, duplicates, latin1 bytes), bytes in one end()', () => {
    const res = new FakeResponse()
    const marker = respondOnNode(res as unknown as ServerResponse, { ...base, interim: [{ status: 103, headers: ['link', '</a.css>', 'link', '</b.js>'] }], headers: ['set-cookie', 'a', 'set-cookie', 'b', 'x-t', '\u00e9'], body: new Uint8Array([104, 105]) })
    expect(res.calls).toEqual([
      ['hints', { link: ['</a.css>', '</b.js>'] }],
      ['head', 200, 'OK', ['set-cookie', 'a', 'set-cookie', 'b', 'x-t', '\u00e9']],
      ['end', 'hi'],
    ])
    expect(marker.headers.get('x-hono-already-sent')).toBe('1')
  })

  test('a streamed chunked body: the head goes out at once (a zero-length write, not flushHeaders), then chunks, then the trailers', async () => {
    const res = new FakeResponse()
    respondOnNode(res as unknown as ServerResponse, { ...base, headers: ['trailer', 'x-sum'], body: stream(['a', 'b']), trailers: Promise.resolve(['x-sum', '42']) })
    await settle()
    expect(res.calls).toEqual([['head', 200, 'OK', ['trailer', 'x-sum']], ['write', ''], ['write', 'a'], ['write', 'b'], ['trailers', [['x-sum', '42']]], ['end']])
  })

  test('a Trailer field with a Content-Length, or without a body, is dropped: Node would throw, and no trailers can follow', () => {
    for (const body of [new Uint8Array([1]), null]) {
      const res = new FakeResponse()
      respondOnNode(res as unknown as ServerResponse, { ...base, headers: ['trailer', 'x-sum', 'content-length', body === null ? '0' : '1'], body })
      expect(res.calls[0]).toEqual(['head', 200, 'OK', ['content-length', body === null ? '0' : '1']])
    }
  })

  test('a body that fails mid-way destroys the response (never ends it cleanly), a tick later so the corked head still goes out', async () => {
    const res = new FakeResponse()
    respondOnNode(res as unknown as ServerResponse, { ...base, headers: [], body: stream(['part'], true) })
    expect(res.destroyed).toBe(false)
    await settle()
    expect(res.destroyed).toBe(true)
    expect(res.calls.some((c) => c[0] === 'end')).toBe(false)
  })
})
