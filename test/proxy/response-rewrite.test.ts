import { describe, expect, test } from 'bun:test'
import { rewriteLocation, rewriteSetCookie, type LocationContext } from '../../src/proxy/response-rewrite.ts'

const ctx: LocationContext = { prefix: '/t/alice/', publicOrigin: 'https://gw.example.com', upstreamHost: 'localhost:3000' }
const mounted: LocationContext = { ...ctx, prefix: '/burrow/t/alice/' }

describe('rewriteLocation()', () => {
  test.each([
    // path-absolute: the prefix goes in front
    ['/landing', '/t/alice/landing'],
    ['/', '/t/alice/'],
    ['/a?b#c', '/t/alice/a?b#c'],
    ['/a/b/', '/t/alice/a/b/'],
    ['/?q=1', '/t/alice/?q=1'],
    ['/#top', '/t/alice/#top'],
    ['/a%2Fb?x=%20', '/t/alice/a%2Fb?x=%20'],
    ['/caf\u00e9?\u00ff', '/t/alice/caf\u00e9?\u00ff'],
    ['/search?next=/a/../b', '/t/alice/search?next=/a/../b'],
    // dot segments are resolved first, as a browser would resolve them against the service's root
    ['/../../etc', '/t/alice/etc'],
    ['/a/./b/../c', '/t/alice/a/c'],
    ['/%2e%2E/x', '/t/alice/x'],
    ['/.\t./x', '/t/alice/x'],
    ['/a/..', '/t/alice/'],
    // trailing controls and spaces are stripped by URL parsers, so they cannot hide a `..`
    ['/..\u0000', '/t/alice/\u0000'],
    ['/a/.. \u001f', '/t/alice/ \u001f'],
    // absolute URLs of the local service (as the gateway addressed it) or of the gateway itself
    ['http://localhost:3000/x?y#z', 'https://gw.example.com/t/alice/x?y#z'],
    ['http://LOCALHOST:3000/x', 'https://gw.example.com/t/alice/x'],
    ['HTTP://localhost:03000/x', 'https://gw.example.com/t/alice/x'],
    ['http://localhost:3000', 'https://gw.example.com/t/alice/'],
    ['http://localhost:3000?a', 'https://gw.example.com/t/alice/?a'],
    ['http://localhost:3000\\x', 'https://gw.example.com/t/alice/x'],
    ['http://localhost:3000/../x', 'https://gw.example.com/t/alice/x'],
    ['//localhost:3000/x', 'https://gw.example.com/t/alice/x'],
    ['https://gw.example.com/landing', 'https://gw.example.com/t/alice/landing'],
    ['http://gw.example.com/landing', 'https://gw.example.com/t/alice/landing'],
    ['https://GW.example.com:443/landing', 'https://gw.example.com/t/alice/landing'],
    ['//gw.example.com/x', 'https://gw.example.com/t/alice/x'],
  ])('%j → %j', (input, expected) => {
    expect(rewriteLocation(input, ctx)).toBe(expected)
  })

  test.each([
    ['relative', 'landing'],
    ['dot-relative', '../x'],
    ['query only', '?page=2'],
    ['fragment only', '#x'],
    ['empty', ''],
    ['another host', 'https://example.org/x'],
    ['another port of localhost', 'http://localhost:3001/x'],
    ['localhost on its default port, when the service was addressed on 3000', 'http://localhost/x'],
    ['a scheme-relative other host', '//example.org/x'],
    ['a backslash scheme-relative other host', '/\\example.org/x'],
    ['userinfo', 'http://user@localhost:3000/x'],
    ['another scheme', 'ftp://localhost:3000/x'],
    ['mailto', 'mailto:a@b'],
    ['javascript', 'javascript:alert(1)'],
    ['already under the prefix', '/t/alice/x'],
    ['the prefix without its slash', '/t/alice'],
    ['already public and prefixed', 'https://gw.example.com/t/alice/x?y'],
    ['garbage', '\u0000\u00ff::://['],
    ['a bare scheme', 'http://'],
    ['a bad port', 'http://localhost:30a0/x'],
    ['a leading space', ' /x'],
  ])('leaves %s alone (same string)', (_name, input) => {
    expect(rewriteLocation(input, ctx)).toBe(input)
  })

  test('a path that starts like the prefix but is another tunnel gets the prefix', () => {
    expect(rewriteLocation('/t/alicex/y', ctx)).toBe('/t/alice/t/alicex/y')
  })

  test('the mount prefix comes in front of /t/<tunnel>/', () => {
    expect(rewriteLocation('/landing', mounted)).toBe('/burrow/t/alice/landing')
    expect(rewriteLocation('http://localhost:3000/x', mounted)).toBe('https://gw.example.com/burrow/t/alice/x')
  })

  test('IPv6 and default ports', () => {
    const v6: LocationContext = { prefix: '/t/a/', publicOrigin: 'http://[::1]:8080', upstreamHost: '[::1]:11434' }
    expect(rewriteLocation('http://[::1]:11434/api', v6)).toBe('http://[::1]:8080/t/a/api')
    expect(rewriteLocation('http://[::1]:8080/api', v6)).toBe('http://[::1]:8080/t/a/api')
    expect(rewriteLocation('http://[::2]:11434/api', v6)).toBe('http://[::2]:11434/api')
    const plain: LocationContext = { prefix: '/t/a/', publicOrigin: 'http://gw', upstreamHost: 'localhost' }
    expect(rewriteLocation('http://localhost:80/x', plain)).toBe('http://gw/t/a/x')
    expect(rewriteLocation('https://localhost/x', plain)).toBe('http://gw/t/a/x')
  })

  test('without an upstream Host only the public host is ours', () => {
    const noHost: LocationContext = { ...ctx, upstreamHost: undefined }
    expect(rewriteLocation('http://localhost:3000/x', noHost)).toBe('http://localhost:3000/x')
    expect(rewriteLocation('https://gw.example.com/x', noHost)).toBe('https://gw.example.com/t/alice/x')
  })

  test('host routing (prefix /): path-absolute stays, the local service\'s URLs become public', () => {
    const host: LocationContext = { prefix: '/', publicOrigin: 'https://alice.gw.example.com', upstreamHost: '127.0.0.1:11434' }
    expect(rewriteLocation('/landing', host)).toBe('/landing')
    expect(rewriteLocation('http://127.0.0.1:11434/x?y', host)).toBe('https://alice.gw.example.com/x?y')
    expect(rewriteLocation('https://alice.gw.example.com/x', host)).toBe('https://alice.gw.example.com/x')
  })
})

describe('rewriteSetCookie()', () => {
  test.each([
    ['sid=1; Path=/', 'sid=1; Path=/t/alice/'],
    ['sid=1; Path=/app', 'sid=1; Path=/t/alice/app'],
    ['sid=1; Path=/app/', 'sid=1; Path=/t/alice/app/'],
    ['sid=1; path=/; HttpOnly', 'sid=1; path=/t/alice/; HttpOnly'],
    ['sid=1;PATH=/x;Secure', 'sid=1;PATH=/t/alice/x;Secure'],
    ['sid=1;  Path =  /x  ; Secure', 'sid=1;  Path =  /t/alice/x  ; Secure'],
    ['sid=1; Path=/a; Path=/b', 'sid=1; Path=/t/alice/a; Path=/t/alice/b'],
    ['sid=1; Domain=localhost; Path=/; SameSite=Lax; Max-Age=60', 'sid=1; Domain=localhost; Path=/t/alice/; SameSite=Lax; Max-Age=60'],
    ['sid=caf\u00e9; Path=/\u00e9', 'sid=caf\u00e9; Path=/t/alice/\u00e9'],
    // the pair is never read as an attribute, even when its name is "path"
    ['path=/x; Path=/', 'path=/x; Path=/t/alice/'],
    ['Path=/', 'Path=/'],
  ])('%j → %j', (input, expected) => {
    expect(rewriteSetCookie(input, '/t/alice/')).toBe(expected)
  })

  test.each([
    ['no Path (default path is under the prefix already)', 'sid=1; HttpOnly'],
    ['a relative Path (the browser uses the default path)', 'sid=1; Path=app'],
    ['an empty Path', 'sid=1; Path='],
    ['Path without a value', 'sid=1; Path'],
    ['already under the prefix', 'sid=1; Path=/t/alice/x'],
    ['the prefix without its slash', 'sid=1; Path=/t/alice'],
    ['Path-like text in the value', 'sid=Path=/x'],
    ['an attribute whose name only contains "path"', 'sid=1; xpath=/x'],
    ['empty', ''],
    ['garbage', ';;;=\u0000\u00ff;path'],
  ])('leaves %s alone (same string)', (_name, input) => {
    expect(rewriteSetCookie(input, '/t/alice/')).toBe(input)
  })

  test('with a mount prefix, and under host routing (prefix /)', () => {
    expect(rewriteSetCookie('a=b; Path=/x', '/burrow/t/alice/')).toBe('a=b; Path=/burrow/t/alice/x')
    expect(rewriteSetCookie('a=b; Path=/x', '/')).toBe('a=b; Path=/x')
  })
})
