import { describe, expect, test } from 'bun:test'
import { MAX_RESPONSE_HEAD_BYTES } from '../../src/proxy/response-head.ts'
import { ResponseReader } from '../../src/proxy/response-reader.ts'

/**
 * The response head limit (MAX_RESPONSE_HEAD_BYTES, 64 KiB) must hold however the bytes arrive.
 * Found by the response-direction fuzz (seed response big-header-70k, `bun run fuzz
 * --direction=response --seed=1`): a 70 KiB head reached the consumer as a 200 when it came in
 * one or two reads, and was refused only when it came in more.
 */
function headOf(valueBytes: number): Buffer {
  return Buffer.from(`HTTP/1.1 200 OK\r\nx-big: ${'b'.repeat(valueBytes)}\r\ncontent-length: 2\r\n\r\nok`, 'latin1')
}

function read(pieces: Buffer[]): { malformed: string | undefined; heads: number } {
  let heads = 0
  const reader = new ResponseReader('GET', { interim: () => {}, head: () => void heads++, body: () => {}, complete: () => {} })
  let malformed: string | undefined
  for (const p of pieces) malformed ??= reader.push(p)
  return { malformed, heads }
}

describe('response head size limit', () => {
  const bytes = headOf(MAX_RESPONSE_HEAD_BYTES + 6 * 1024)

  test('a head over the limit is refused when it arrives in many small reads', () => {
    const pieces = Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) => bytes.subarray(i * 4096, (i + 1) * 4096))
    const r = read(pieces)
    expect({ heads: r.heads, refused: r.malformed !== undefined }).toEqual({ heads: 0, refused: true })
  })

  test('a head over the limit is refused when it arrives in one read', () => {
    const r = read([bytes])
    expect({ heads: r.heads, refused: r.malformed !== undefined }).toEqual({ heads: 0, refused: true })
  })

  test('a head over the limit is refused when its last read completes it (SSH packets of 32 KiB)', () => {
    const pieces = Array.from({ length: Math.ceil(bytes.length / 32768) }, (_, i) => bytes.subarray(i * 32768, (i + 1) * 32768))
    const r = read(pieces)
    expect({ heads: r.heads, refused: r.malformed !== undefined }).toEqual({ heads: 0, refused: true })
  })
})

describe('a large last read of a body', () => {
  // Found between gateway instances (test/cluster): a TCP read of 100 KiB that carried a chunked
  // body's last bytes was refused as a head too large, and a complete download was cut.
  test.each([
    ['chunked', (body: Buffer) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])],
    ['content-length', (body: Buffer) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`), body])],
  ] as const)('completes a %s response that arrives in one 100 KiB read', (_kind, frame) => {
    const body = Buffer.alloc(100 * 1024, 7)
    let got = 0
    let completed = false
    const reader = new ResponseReader('GET', { interim: () => {}, head: () => {}, body: (b) => void (got += b.byteLength), complete: () => void (completed = true) })
    expect(reader.push(frame(body))).toBeUndefined()
    expect({ got, completed, cleanEnd: reader.cleanEnd }).toEqual({ got: body.length, completed: true, cleanEnd: true })
  })
})
