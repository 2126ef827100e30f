/**
 * Browser login end to end (`?burrow_token=` → 302 + login cookie), on a gateway on Bun, Deno and
 * Node: under Host routing (`alice.localhost`), refused under path routing by default, and under
 * path routing with PATH_ROUTING_LOGIN=1. Where a browser's cookie matching matters, curl's cookie
 * jar plays the browser. Both gateways log at debug level, and the last test reads all they wrote
 * for the tokens that went through query strings.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { signToken } from '../../src/auth/tokens.ts'
import { ask, echoed, type Answer } from '../support/consumer.ts'
import { RUNTIMES, startContractEnv, startEdgeOrigin, type ContractEnv, type EdgeOrigin } from '../support/contract-env.ts'
import { curl } from '../support/curl.ts'
import { stopAll, tempDir } from '../support/processes.ts'
import type { HeaderList } from '../support/raw-http.ts'

let edge: Promise<EdgeOrigin>
let forged: string
beforeAll(async () => {
  edge = startEdgeOrigin()
  forged = await signToken('another-secret-0123456789-abcdefghijklmnop', 'alice', 3600)
})
afterAll(stopAll)

/** A Set-Cookie value as its name=value pair and its attributes (names lower case, in order). */
function parseSetCookie(value: string): { pair: string; attrs: [string, string | undefined][] } {
  const [pair, ...rest] = value.split(';').map((p) => p.trim())
  return {
    pair: pair!,
    attrs: rest.map((a) => {
      const eq = a.indexOf('=')
      return eq < 0 ? [a.toLowerCase(), undefined] : [a.slice(0, eq).toLowerCase(), a.slice(eq + 1)]
    }),
  }
}

/** The login answer's cookie, checked against the contract; returns its attributes for more checks. */
function expectLoginCookie(r: Answer, token: string, path: string): void {
  const cookies = r.all('set-cookie')
  expect(cookies).toHaveLength(1)
  const { pair, attrs } = parseSetCookie(cookies[0]!)
  expect(pair).toBe(`__burrow_token=${token}`)
  const names = attrs.map(([n]) => n).sort()
  // No Secure over plain http (a browser would drop the cookie), no Domain (host-only).
  expect(names).toEqual(['httponly', 'max-age', 'path', 'samesite'])
  const attr = new Map(attrs)
  expect(attr.get('path')).toBe(path)
  expect(attr.get('samesite')).toBe('Lax')
  // The token was minted for 3600 s a moment ago: the cookie goes when the token does.
  const maxAge = Number(attr.get('max-age'))
  expect(maxAge).toBeGreaterThan(3500)
  expect(maxAge).toBeLessThanOrEqual(3600)
  expect(r.header('cache-control')).toBe('no-store')
}

for (const runtime of RUNTIMES) {
  describe(`browser login, gateway on ${runtime}`, () => {
    // host: Host routing under *.localhost, path routing without PATH_ROUTING_LOGIN.
    // path: PATH_ROUTING_LOGIN=1.
    let host: ContractEnv
    let path: ContractEnv
    const jar = () => join(tempDir('burrow-jar-'), 'cookies.txt')
    beforeAll(async () => {
      const e = await edge
      const tunnels = [{ user: 'alice' }, { user: 'bob' }]
      ;[host, path] = await Promise.all([
        startContractEnv(runtime, e, tunnels, { BURROW_BASE_DOMAIN: 'localhost', LOG_LEVEL: 'debug' }),
        startContractEnv(runtime, e, tunnels, { PATH_ROUTING_LOGIN: '1', LOG_LEVEL: 'debug' }),
      ])
    })
    const atAlice = (target: string, headers: HeaderList = []) => ask({ port: host.port, host: `alice.localhost:${host.port}`, target, headers })
    const resolve = () => ['--resolve', `alice.localhost:${host.port}:127.0.0.1`, '--resolve', `bob.localhost:${host.port}:127.0.0.1`]

    test('Host routing: ?burrow_token= gives a 302 to the URL without it and an HttpOnly, SameSite=Lax cookie for Path=/', async () => {
      const r = await atAlice(`/page?a=1&burrow_token=${host.tokens.alice}&b=2`)
      expect(r.status).toBe(302)
      expect(r.header('location')).toBe('/page?a=1&b=2')
      expectLoginCookie(r, host.tokens.alice!, '/')
      // The login is the gateway's answer: nothing reached the service.
      const echo = await atAlice(`/echo-head?burrow_token=${host.tokens.alice}`)
      expect([echo.status, echo.header('location')]).toEqual([302, '/echo-head'])
    })

    test('Host routing: a login link whose path starts with // redirects to a path on the same host, never to //evil.example', async () => {
      const r = await atAlice(`//evil.example/x?burrow_token=${host.tokens.alice}`)
      expect(r.status).toBe(302)
      const location = r.header('location') ?? ''
      expect(location).not.toMatch(/^[/\\]{2}/)
      expect(new URL(location, `http://alice.localhost:${host.port}/`).host).toBe(`alice.localhost:${host.port}`)
    })

    test("the cookie alone authorizes alice.localhost; the service gets the app's cookies and no Authorization", async () => {
      for (const cookie of [`__burrow_token=${host.tokens.alice}; x=1`, `x=1; __burrow_token=${host.tokens.alice}`]) {
        const r = await atAlice('/echo-head', [['Cookie', cookie]])
        expect(r.status).toBe(200)
        const seen = echoed(r)
        expect(seen.all('cookie')).toEqual(['x=1'])
        expect(seen.all('authorization')).toEqual([])
      }
      // After a cookie login the app's own Authorization is the app's.
      const app = echoed(await atAlice('/echo-head', [['Cookie', `__burrow_token=${host.tokens.alice}`], ['Authorization', 'Bearer app-42']]))
      expect(app.all('authorization')).toEqual(['Bearer app-42'])
      expect(app.all('cookie')).toEqual([])
    })

    test("alice's cookie does not open bob.localhost: sent by hand 403, and a cookie jar does not send it (401)", async () => {
      const byHand = await ask({ port: host.port, host: `bob.localhost:${host.port}`, target: '/echo-head', headers: [['Cookie', `__burrow_token=${host.tokens.alice}`]] })
      expect([byHand.status, byHand.errorCode()]).toEqual([403, 'forbidden'])
      const cookies = jar()
      const login = await curl([...resolve(), '-c', cookies, '-b', cookies, '-L', `http://alice.localhost:${host.port}/echo-head?burrow_token=${host.tokens.alice}`])
      expect(login.status).toBe(200)
      expect(JSON.parse(login.body).target).toBe('/echo-head')
      const bob = await curl([...resolve(), '-b', cookies, `http://bob.localhost:${host.port}/echo-head`])
      expect(bob.status).toBe(401)
      expect(bob.sent.filter((l) => /^cookie:/i.test(l))).toEqual([])
    })

    test("a bad token in the link: 401 and no Set-Cookie; another user's: 403 and no Set-Cookie", async () => {
      for (const [token, status] of [[forged, 401], ['not-a-jwt', 401], [host.tokens.bob!, 403]] as const) {
        const r = await atAlice(`/page?burrow_token=${token}`)
        expect({ status: r.status, cookies: r.all('set-cookie') }).toEqual({ status, cookies: [] })
      }
    })

    test('path routing refuses a browser login by default: 403 saying why, naming PATH_ROUTING_LOGIN', async () => {
      const r = await ask({ port: host.port, host: host.host, target: `/t/alice/page?burrow_token=${host.tokens.alice}` })
      expect([r.status, r.errorCode()]).toEqual([403, 'forbidden'])
      expect(r.all('set-cookie')).toEqual([])
      expect(r.errorMessage()).toContain('PATH_ROUTING_LOGIN')
      expect(r.errorMessage()).toMatch(/origin/)
    })

    test('PATH_ROUTING_LOGIN=1: a 302 to /t/alice/… and a cookie for Path=/t/alice/', async () => {
      const r = await ask({ port: path.port, host: path.host, target: `/t/alice/page?a=1&burrow_token=${path.tokens.alice}&b=2` })
      expect(r.status).toBe(302)
      expect(r.header('location')).toBe('/t/alice/page?a=1&b=2')
      expectLoginCookie(r, path.tokens.alice!, '/t/alice/')
    })

    test('PATH_ROUTING_LOGIN=1: a cookie jar sends the cookie to /t/alice/ and not to /t/bob/', async () => {
      const cookies = jar()
      const base = `http://127.0.0.1:${path.port}`
      const login = await curl(['-c', cookies, '-b', cookies, '-L', `${base}/t/alice/echo-head?x=1&burrow_token=${path.tokens.alice}`])
      expect(login.status).toBe(200)
      const seen = JSON.parse(login.body) as { target: string; rawHeaders: string[] }
      expect(seen.target).toBe('/echo-head?x=1')
      expect(seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())).not.toContain('cookie')
      const again = await curl(['-b', cookies, `${base}/t/alice/echo-head`])
      expect(again.status).toBe(200)
      expect(again.sent.filter((l) => /^cookie:/i.test(l))).toHaveLength(1)
      const bob = await curl(['-b', cookies, `${base}/t/bob/echo-head`])
      expect(bob.status).toBe(401)
      expect(bob.sent.filter((l) => /^cookie:/i.test(l))).toEqual([])
    })

    test("no token that went through a query string appears anywhere in the gateways' debug output", async () => {
      // A login link the request guard refuses (and logs at debug): 110 fields, over its limit of 100.
      const padded: HeaderList = Array.from({ length: 110 }, (_, i) => [`X-Pad-${i}`, 'x'])
      const refused = await ask({ port: host.port, host: `alice.localhost:${host.port}`, target: `/page?burrow_token=${host.tokens.alice}`, headers: padded })
      expect(refused.status).toBe(431)
      // The gateway's stderr reaches us through a pipe, a moment after its answer.
      await host.gw.proc.waitFor(/"event":"request_refused"/, 5_000)
      // Every gateway line so far, each token whole and by its signature (a log could cut a JWT).
      const output = host.gw.proc.output() + path.gw.proc.output()
      expect(output).toContain('"level":"debug"')
      for (const token of [host.tokens.alice!, host.tokens.bob!, path.tokens.alice!, forged]) {
        expect(output).not.toContain(token)
        expect(output).not.toContain(token.split('.')[2]!)
      }
    })
  })
}
