import { describe, expect, test } from 'bun:test'
import { checkProxyUrl, proxyFor } from '../../src/agent/proxy.ts'

const P = 'http://proxy:3128'

describe('proxyFor()', () => {
  test('--proxy wins over the environment', () => {
    expect(proxyFor('wss://gw.example.com/tunnel', { HTTPS_PROXY: P, NO_PROXY: '*' }, 'http://other:8080')).toBe('http://other:8080')
  })

  test('wss:// reads https_proxy, ws:// reads http_proxy, both fall back to all_proxy; lower case first', () => {
    expect(proxyFor('wss://gw.example.com/tunnel', { HTTPS_PROXY: P, HTTP_PROXY: 'http://wrong:1' })).toBe(P)
    expect(proxyFor('ws://gw.example.com/tunnel', { HTTPS_PROXY: 'http://wrong:1', HTTP_PROXY: P })).toBe(P)
    expect(proxyFor('ws://gw.example.com/tunnel', { ALL_PROXY: P })).toBe(P)
    expect(proxyFor('wss://gw.example.com/tunnel', { https_proxy: P, HTTPS_PROXY: 'http://wrong:1' })).toBe(P)
    expect(proxyFor('wss://gw.example.com/tunnel', {})).toBeUndefined()
  })

  test('NO_PROXY: *, exact hosts, domains with or without a leading dot, ports, IPv6', () => {
    const via = (url: string, noProxy: string) => proxyFor(url, { HTTPS_PROXY: P, HTTP_PROXY: P, NO_PROXY: noProxy })
    expect(via('wss://gw.example.com/t', '*')).toBeUndefined()
    expect(via('wss://gw.example.com/t', 'localhost, gw.example.com')).toBeUndefined()
    expect(via('wss://gw.example.com/t', '.example.com')).toBeUndefined()
    expect(via('wss://gw.example.com/t', 'example.com')).toBeUndefined()
    expect(via('wss://gw.example.com/t', 'ample.com')).toBe(P)
    expect(via('wss://gw.example.com/t', 'gw.example.com:443')).toBeUndefined()
    expect(via('wss://gw.example.com/t', 'gw.example.com:8443')).toBe(P)
    expect(via('ws://gw.example.com:8080/t', 'gw.example.com:8080')).toBeUndefined()
    expect(via('ws://[::1]:8080/t', '::1')).toBeUndefined()
    expect(via('ws://[::1]:8080/t', '[::1]:8080')).toBeUndefined()
    expect(via('ws://10.0.0.5/t', '10.0.0.5')).toBeUndefined()
  })
})

describe('checkProxyUrl()', () => {
  test('takes http:// and https:// proxies, names what it cannot use', () => {
    expect(checkProxyUrl('http://u:p@proxy:3128')).toEqual({ ok: true })
    expect(checkProxyUrl('https://proxy:443')).toEqual({ ok: true })
    expect(checkProxyUrl('socks5://proxy:1080')).toEqual({ ok: false, message: expect.stringContaining('socks5:// proxies are not supported') })
    expect(checkProxyUrl('proxy')).toEqual({ ok: false, message: expect.stringContaining('is not a URL') })
  })
})
