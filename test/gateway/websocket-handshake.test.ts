import { describe, expect, test } from 'bun:test'
import { checkWebSocketUpgrade } from '../../src/gateway/websocket-handshake.ts'

const GOOD = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }

describe('checkWebSocketUpgrade()', () => {
  test.each([
    ['the RFC 6455 example', GOOD],
    ['tokens in other cases and lists', { ...GOOD, upgrade: 'WebSocket', connection: 'keep-alive, Upgrade' }],
  ])('accepts %s', (_name, headers) => {
    expect(checkWebSocketUpgrade('GET', new Headers(headers))).toBeUndefined()
  })

  test.each([
    ['a POST', 'POST', GOOD, /GET/],
    ['no Connection: Upgrade', 'GET', { ...GOOD, connection: 'keep-alive' }, /Connection/],
    ['version 12', 'GET', { ...GOOD, 'sec-websocket-version': '12' }, /version 13/],
    ['no key', 'GET', { ...GOOD, 'sec-websocket-key': '' }, /Sec-WebSocket-Key/],
    ['a key of the wrong size', 'GET', { ...GOOD, 'sec-websocket-key': 'c2hvcnQ=' }, /Sec-WebSocket-Key/],
    ['a key that is not base64', 'GET', { ...GOOD, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ!=' }, /Sec-WebSocket-Key/],
  ])('refuses %s', (_name, method, headers, message) => {
    expect(checkWebSocketUpgrade(method, new Headers(headers))).toMatch(message)
  })
})
