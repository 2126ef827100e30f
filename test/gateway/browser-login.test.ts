import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parse } from 'hono/utils/cookie'
import { browserLogin, type LoginRequest } from '../../src/gateway/browser-login.ts'
import { consumerCredential } from '../../src/gateway/consumer-credentials.ts'
import { mountPrefixOf, tunnelPrefix } from '../../src/gateway/tunnel-prefix.ts'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig'
const NOW_MS = 1_700_000_000_500
const NOW_S = Math.floor(NOW_MS / 1000)

function path(p: string, search: string, over: Partial<LoginRequest> = {}): LoginRequest {
  return { path: p, search, secure: true, scope: { routing: 'path', prefix: '/t/alice/' }, ...over }
}

function ok(r: ReturnType<typeof browserLogin>) {
  if (!r.ok) throw new Error(`expected a login, got ${r.reason}`)
  return r
}

describe('browserLogin(): the redirect', () => {
  test.each([
    ['/t/alice/', `?burrow_token=${TOKEN}`, '/t/alice/'],
    ['/t/alice/docs', `?burrow_token=${TOKEN}`, '/t/alice/docs'],
    ['/t/alice/docs', `?a=1&burrow_token=${TOKEN}&b=2`, '/t/alice/docs?a=1&b=2'],
    ['/t/alice/docs', `?burrow_token=${TOKEN}&burrow_token=${TOKEN}&c`, '/t/alice/docs?c'],
    ['/t/alice/docs', `?burrow%5Ftoken=${TOKEN}&q=%2F%20+x`, '/t/alice/docs?q=%2F%20+x'],
    ['/t/alice/a%20b/c%2Fd', `?burrow_token=${TOKEN}`, '/t/alice/a%20b/c%2Fd'],
    // the cookie's Path must match byte for byte, so the tunnel segment gets its canonical spelling
    ['/t/alice', `?burrow_token=${TOKEN}`, '/t/alice/'],
    ['/t/%61lice/x', `?burrow_token=${TOKEN}`, '/t/alice/x'],
    ['/t/alice//x', `?burrow_token=${TOKEN}`, '/t/alice//x'],
  ])('%s%s → %s', (p, search, location) => {
    const r = ok(browserLogin(path(p, search), TOKEN, NOW_S + 60, NOW_MS))
    expect(r.status).toBe(302)
    expect(r.location).toBe(location)
    expect(r.headers.location).toBe(location)
    expect(r.location).not.toContain(TOKEN)
  })

  test('under a mount prefix', () => {
    const prefix = tunnelPrefix('/burrow', 'alice')
    const r = ok(browserLogin(path('/burrow/t/alice/x', `?burrow_token=${TOKEN}&y=1`, { scope: { routing: 'path', prefix } }), TOKEN, NOW_S + 60, NOW_MS))
    expect(r.location).toBe('/burrow/t/alice/x?y=1')
    expect(r.setCookie).toContain('; Path=/burrow/t/alice/;')
  })

  test.each([
    ['/', `?burrow_token=${TOKEN}`, '/'],
    ['/app/page', `?x=1&burrow_token=${TOKEN}`, '/app/page?x=1'],
    ['', `?burrow_token=${TOKEN}`, '/'],
    // `//evil.com/` would be scheme-relative: another host. `/.` keeps it a path on this host.
    ['//evil.com/x', `?burrow_token=${TOKEN}`, '/.//evil.com/x'],
    ['/\\evil.com/x', `?burrow_token=${TOKEN}`, '/./\\evil.com/x'],
  ])('host routing: %s%s → %s', (p, search, location) => {
    const r = ok(browserLogin({ path: p, search, secure: true, scope: { routing: 'host' } }, TOKEN, NOW_S + 60, NOW_MS))
    expect(r.location).toBe(location)
    // Resolved as a browser resolves it, the redirect stays on the tunnel's host.
    expect(new URL(r.location, 'https://alice.gw.example/whatever').host).toBe('alice.gw.example')
  })

  test('the response is not to be stored, and sends no Referer', () => {
    const r = ok(browserLogin(path('/t/alice/', `?burrow_token=${TOKEN}`), TOKEN, NOW_S + 60, NOW_MS))
    expect(r.headers['cache-control']).toBe('no-store')
    expect(r.headers['referrer-policy']).toBe('no-referrer')
    expect(r.headers['set-cookie']).toBe(r.setCookie)
  })

  // For any query, the redirect keeps every other parameter byte for byte and drops ours.
  test('keeps the rest of any query exactly', () => {
    const piece = fc.stringMatching(/^[a-z0-9%=+._~-]{0,8}$/).filter((s) => !s.startsWith('burrow'))
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 5 }), fc.nat(), (others, at) => {
        const params = [...others]
        params.splice(at % (params.length + 1), 0, `burrow_token=${TOKEN}`)
        const r = ok(browserLogin(path('/t/alice/p', '?' + params.join('&')), TOKEN, NOW_S + 60, NOW_MS))
        const rest = others.join('&')
        expect(r.location).toBe('/t/alice/p' + (rest === '' ? '' : '?' + rest))
      }),
      { numRuns: 1000 },
    )
  })
})

describe('browserLogin(): the cookie', () => {
  test.each([
    ['path routing over https', path('/t/alice/', ''), `__burrow_token=${TOKEN}; Path=/t/alice/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure`],
    ['path routing over http', path('/t/alice/', '', { secure: false }), `__burrow_token=${TOKEN}; Path=/t/alice/; Max-Age=3600; HttpOnly; SameSite=Lax`],
    ['host routing over https', { path: '/', search: '', secure: true, scope: { routing: 'host' } }, `__Host-burrow_token=${TOKEN}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure`],
    ['host routing over http', { path: '/', search: '', secure: false, scope: { routing: 'host' } }, `__burrow_token=${TOKEN}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax`],
  ] as const)('%s', (_name, request, cookie) => {
    expect(ok(browserLogin(request, TOKEN, NOW_S + 3600, NOW_MS)).setCookie).toBe(cookie)
  })

  test('a __Host- cookie meets its prefix rules: Secure, Path=/, no Domain', () => {
    const c = ok(browserLogin({ path: '/', search: '', secure: true, scope: { routing: 'host' } }, TOKEN, NOW_S + 60, NOW_MS)).setCookie
    expect(c.startsWith('__Host-')).toBe(true)
    expect(c).toContain('; Secure')
    expect(c).toContain('; Path=/;')
    expect(c.toLowerCase()).not.toContain('domain=')
  })

  test.each([
    ['the remaining lifetime in whole seconds', NOW_S + 90, 'Max-Age=90'],
    ['one second left', NOW_S + 1, 'Max-Age=1'],
    ['capped at 400 days', NOW_S + 10 * 365 * 86400, `Max-Age=${400 * 86400}`],
  ])('Max-Age: %s', (_name, exp, attr) => {
    expect(ok(browserLogin(path('/t/alice/', ''), TOKEN, exp, NOW_MS)).setCookie).toContain(`; ${attr};`)
  })

  test('a token without exp gives a session cookie (no Max-Age)', () => {
    expect(ok(browserLogin(path('/t/alice/', ''), TOKEN, undefined, NOW_MS)).setCookie).not.toContain('Max-Age')
  })

  test.each([
    ['expiring now', NOW_S],
    ['expired (within the verifier\'s clock tolerance)', NOW_S - 20],
  ])('a token %s gives no cookie', (_name, exp) => {
    expect(browserLogin(path('/t/alice/', ''), TOKEN, exp, NOW_MS)).toEqual({ ok: false, code: 'unauthorized', reason: 'token expired' })
  })

  test('a malformed token is refused, not put in a header', () => {
    expect(browserLogin(path('/t/alice/', ''), 'a;b', NOW_S + 60, NOW_MS)).toMatchObject({ ok: false, code: 'unauthorized' })
  })

  test('a prefix that is not a path is a bug in the caller', () => {
    expect(() => browserLogin(path('/t/alice/', '', { scope: { routing: 'path', prefix: 't/alice' } }), TOKEN, NOW_S + 60, NOW_MS)).toThrow(TypeError)
    expect(() => browserLogin(path('/t/alice/', '', { scope: { routing: 'path', prefix: '/t/a;b/' } }), TOKEN, NOW_S + 60, NOW_MS)).toThrow(TypeError)
  })

  test('the cookie a login sets is the credential of the next request, and is not forwarded', () => {
    const login = ok(browserLogin(path('/t/alice/docs', `?burrow_token=${TOKEN}`), TOKEN, NOW_S + 60, NOW_MS))
    // What the browser sends back: name=value of the Set-Cookie pair, next to the app's cookies.
    const pair = login.setCookie.slice(0, login.setCookie.indexOf(';'))
    const next = consumerCredential({
      method: 'GET',
      headers: new Headers({ cookie: `sid=1; ${pair}` }),
      search: '',
      tunnel: 'alice',
      routing: 'path',
      secure: true,
      isPublic: false,
    })
    expect(next).toEqual({ kind: 'verify', source: 'cookie', token: TOKEN, edits: [{ op: 'set', name: 'cookie', value: 'sid=1' }] })
    expect(parse(pair)).toEqual({ __burrow_token: TOKEN })
  })
})

describe('tunnelPrefix() and mountPrefixOf()', () => {
  test.each([
    ['', 'alice', '/t/alice/'],
    ['/', 'alice', '/t/alice/'],
    ['/burrow', 'alice', '/burrow/t/alice/'],
    ['/burrow/', 'alice', '/burrow/t/alice/'],
    ['burrow', 'a-1', '/burrow/t/a-1/'],
  ])('tunnelPrefix(%j, %j) → %j', (mount, tunnel, prefix) => {
    expect(tunnelPrefix(mount, tunnel)).toBe(prefix)
  })

  test.each([
    ['/t/:tunnel', ''],
    ['/t/:tunnel/*', ''],
    ['/burrow/t/:tunnel/*', '/burrow'],
    ['/a/b/t/:tunnel', '/a/b'],
    ['/healthz', ''],
  ])('mountPrefixOf(%j) → %j', (route, mount) => {
    expect(mountPrefixOf(route)).toBe(mount)
  })
})
