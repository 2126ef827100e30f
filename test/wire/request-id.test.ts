import { describe, expect, test } from 'bun:test'
import { requestIdOf } from '../../src/gateway/request-id.ts'
import { peekRequestId, REQUEST_ID } from '../../src/wire/index.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('request ids', () => {
  test('a consumer id of 1–128 allowed characters is kept', () => {
    for (const id of ['a', 'req-1', '01HZX3K9Q4M8V6T2B7N5C0D1E2', 'Root:1-5759e988/bd862e3fe1be46a994272793+x=@~.', 'x'.repeat(128)]) expect(requestIdOf(id)).toBe(id)
  })

  test('anything else is replaced by a fresh UUID (v4), and so is no id', () => {
    const bad = ['', 'x'.repeat(129), 'has space', 'a,b', 'a;b', 'quo"te', 'tab\t', 'nl\nx', 'é', '<script>']
    for (const id of [...bad, undefined]) expect(requestIdOf(id)).toMatch(UUID)
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined))
    for (const id of bad) expect(REQUEST_ID.test(id)).toBe(false)
  })

  test('peekRequestId finds the id the gateway wrote in a forwarded head, and only in the head', () => {
    expect(peekRequestId('GET / HTTP/1.1\r\nhost: a\r\nx-request-id: abc-1\r\n\r\n')).toBe('abc-1')
    expect(peekRequestId('POST /x HTTP/1.1\r\nx-request-id: r2\r\ncontent-length: 3\r\n\r\nabc')).toBe('r2')
    // Cut before the end of the head (a first chunk): still found if its line is complete.
    expect(peekRequestId('GET / HTTP/1.1\r\nx-request-id: r3')).toBe('r3')
    expect(peekRequestId('GET / HTTP/1.1\r\nhost: a\r\n\r\n')).toBeUndefined()
    // In the body, not the head: not ours.
    expect(peekRequestId('POST / HTTP/1.1\r\ncontent-length: 30\r\n\r\n\r\nx-request-id: body')).toBeUndefined()
    expect(peekRequestId('GET / HTTP/1.1\r\nx-request-id: bad value\r\n\r\n')).toBeUndefined()
  })
})
