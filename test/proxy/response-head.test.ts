import { describe, expect, test } from 'bun:test'
import { checkInterimHead, checkResponseHead, checkTrailers, MAX_RESPONSE_FIELDS } from '../../src/proxy/response-head.ts'

describe('checkResponseHead()', () => {
  test.each([
    ['a plain 200', 200, ['content-type', 'text/plain', 'content-length', '2']],
    ['599, the last final status', 599, []],
    ['obs-text bytes in a value (a UTF-8 filename as latin1)', 200, ['content-disposition', Buffer.from('a; filename="文件"').toString('latin1')]],
    ['a tab inside a value', 200, ['x-a', 'a\tb']],
    ['an empty value', 200, ['x-empty', '']],
    [`${MAX_RESPONSE_FIELDS} fields`, 200, Array.from({ length: MAX_RESPONSE_FIELDS }, (_, i) => [`x-${i}`, 'v']).flat()],
  ])('accepts %s', (_name, status, raw) => {
    expect(checkResponseHead(status, 'OK', raw).ok).toBe(true)
  })

  test.each([
    ['status 199 (interim, not final)', 199, [], /final HTTP status/],
    ['status 600', 600, [], /final HTTP status/],
    ['status 0', 0, [], /final HTTP status/],
    ['a NUL in a value', 200, ['x-a', 'a\u0000b'], /control character/],
    ['a bare CR in a value', 200, ['x-a', 'a\rb'], /control character/],
    ['a DEL in a value', 200, ['x-a', 'a\u007fb'], /control character/],
    ['a char above U+00FF (cannot be one byte)', 200, ['x-a', 'a\u0100'], /control character/],
    ['a space in a name', 200, ['x a', 'b'], /not a token/],
    ['an empty name', 200, ['', 'b'], /not a token/],
    [`${MAX_RESPONSE_FIELDS + 1} fields`, 200, Array.from({ length: MAX_RESPONSE_FIELDS + 1 }, (_, i) => [`x-${i}`, 'v']).flat(), /more than/],
    ['two Content-Length', 200, ['content-length', '2', 'Content-Length', '2'], /more than one Content-Length/],
    ['Content-Length with Transfer-Encoding', 200, ['content-length', '2', 'transfer-encoding', 'chunked'], /both/],
    ['a coding other than chunked', 200, ['transfer-encoding', 'gzip, chunked'], /other than chunked/],
  ])('refuses %s', (_name, status, raw, reason) => {
    const verdict = checkResponseHead(status, 'X', raw)
    expect(verdict.ok).toBe(false)
    if (!verdict.ok) expect(verdict.reason).toMatch(reason)
  })

  test('drops hop-by-hop fields and those Connection names, lower-cases names, keeps order and duplicates', () => {
    const verdict = checkResponseHead(200, 'OK', ['Set-Cookie', 'a=1', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'Trailer', 'x-sum', 'Set-Cookie', 'b=2', 'Transfer-Encoding', 'chunked'])
    expect(verdict).toEqual({ ok: true, statusText: 'OK', headers: ['set-cookie', 'a=1', 'trailer', 'x-sum', 'set-cookie', 'b=2'] })
  })

  test('a reason phrase with control bytes is dropped, not refused', () => {
    expect(checkResponseHead(200, 'O\u0007K', [])).toEqual({ ok: true, statusText: '', headers: [] })
  })
})

describe('interim heads and trailers', () => {
  test("103's Link fields pass; a control byte drops the whole interim response", () => {
    expect(checkInterimHead(['Link', '</a.css>; rel=preload'])).toEqual(['link', '</a.css>; rel=preload'])
    expect(checkInterimHead(['Link', 'a\u0000'])).toBeUndefined()
  })

  test('trailers never carry framing or routing fields (RFC 9110 §6.5.1); bad ones are skipped', () => {
    expect(checkTrailers(['X-Sum', 'abc', 'Content-Length', '9', 'Transfer-Encoding', 'chunked', 'Host', 'x', 'x-bad', 'a\u0000', 'Server-Timing', 'db;dur=3'])).toEqual(['x-sum', 'abc', 'server-timing', 'db;dur=3'])
  })
})
