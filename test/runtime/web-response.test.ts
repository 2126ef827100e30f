import { describe, expect, test } from 'bun:test'
import { webResponse } from '../../src/runtime/web-response.ts'

const base = { status: 200, statusText: 'OK', interim: [], trailers: Promise.resolve([]) }

describe('webResponse()', () => {
  test('fields in order, duplicates kept, latin1 bytes as one char each; Trailer dropped (no trailers follow)', async () => {
    const r = webResponse({ ...base, headers: ['set-cookie', 'a=1', 'x-t', '\u00e6\u0096\u0087', 'trailer', 'x-sum', 'set-cookie', 'b=2'], body: new Uint8Array([104, 105]) })
    expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(r.headers.get('x-t')).toBe('\u00e6\u0096\u0087')
    expect(r.headers.has('trailer')).toBe(false)
    expect(await r.text()).toBe('hi')
  })

  test('bytesGetAType: a byte body without Content-Type goes as a one-chunk stream (Bun would invent application/octet-stream)', async () => {
    const untyped = webResponse({ ...base, headers: [], body: new Uint8Array([1, 2]) }, { bytesGetAType: true })
    expect(untyped.body).toBeInstanceOf(ReadableStream)
    expect(new Uint8Array(await untyped.arrayBuffer())).toEqual(new Uint8Array([1, 2]))
    const typed = webResponse({ ...base, headers: ['content-type', 'text/plain'], body: new Uint8Array([1]) }, { bytesGetAType: true })
    expect(typed.headers.get('content-type')).toBe('text/plain')
  })

  test('no body for 204 and 304', () => {
    expect(webResponse({ ...base, status: 304, statusText: 'Not Modified', headers: ['etag', '"x"'], body: null }).body).toBeNull()
  })
})
