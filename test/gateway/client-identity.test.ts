import { describe, expect, test } from 'bun:test'
import { clientResolver } from '../../src/gateway/client-identity.ts'

const peer = (address: string | undefined, port = 40000) => ({ address, port })
const h = (fields: Record<string, string>) => new Headers(fields)

describe('clientResolver without TRUSTED_PROXIES', () => {
  const resolve = clientResolver(undefined)
  test("the socket peer, whatever X-Forwarded-For claims; the scheme is the gateway's own", () => {
    expect(resolve(peer('127.0.0.1'), h({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }), 'http://gw/t/a/')).toEqual({
      address: '127.0.0.1',
      port: 40000,
      peer: '127.0.0.1',
      proto: 'http',
    })
    expect(resolve(peer('::1'), h({}), 'https://gw/').proto).toBe('https')
  })
})

describe('clientResolver with TRUSTED_PROXIES', () => {
  const resolve = clientResolver(['127.0.0.1', '10.0.0.0/8', '::1'])

  test('from a trusted peer: the rightmost untrusted X-Forwarded-For address, and its X-Forwarded-Proto', () => {
    expect(resolve(peer('127.0.0.1'), h({ 'x-forwarded-for': '198.51.100.1, 203.0.113.7', 'x-forwarded-proto': 'https' }), 'http://gw/')).toEqual({
      address: '203.0.113.7',
      port: undefined,
      peer: '127.0.0.1',
      proto: 'https',
    })
  })

  test('several trusted hops are skipped; a forged leftmost entry is never chosen', () => {
    const got = resolve(peer('10.1.2.3'), h({ 'x-forwarded-for': '1.2.3.4, 203.0.113.9, 10.0.0.5' }), 'http://gw/')
    expect(got.address).toBe('203.0.113.9')
    expect(got.peer).toBe('10.1.2.3')
  })

  test('from an untrusted peer the headers are ignored', () => {
    expect(resolve(peer('192.0.2.50'), h({ 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }), 'http://gw/')).toEqual({
      address: '192.0.2.50',
      port: 40000,
      peer: '192.0.2.50',
      proto: 'http',
    })
  })

  test('a trusted peer with no X-Forwarded-For is the client itself (a health check from the balancer)', () => {
    expect(resolve(peer('::1'), h({}), 'http://gw/')).toEqual({ address: '::1', port: 40000, peer: '::1', proto: 'http' })
  })

  test('X-Forwarded-Proto: the last value (the nearest proxy appended it); anything but http/https is ignored', () => {
    expect(resolve(peer('127.0.0.1'), h({ 'x-forwarded-proto': 'http, HTTPS' }), 'http://gw/').proto).toBe('https')
    expect(resolve(peer('127.0.0.1'), h({ 'x-forwarded-proto': 'gopher' }), 'http://gw/').proto).toBe('http')
    expect(resolve(peer('127.0.0.1'), h({ 'x-forwarded-proto': 'http' }), 'https://gw/').proto).toBe('http')
  })

  test('an unknown peer address (an embedding host that cannot tell) trusts nothing', () => {
    expect(resolve(peer(undefined), h({ 'x-forwarded-for': '203.0.113.7' }), 'http://gw/').address).toBeUndefined()
  })
})
