/**
 * What the gateway rewrites in a local service's answer, end to end on Bun, Deno and Node:
 * `Location` and `Set-Cookie` `Path` under path routing (`/t/alice/`), under Host routing
 * (`alice.localhost`: only absolute redirects to the service's own host), and with the gateway
 * mounted under `/prefix` in a host app (test/fixtures/embedded-gateway.ts). The service is the
 * edge origin: `/redirect?to=` (`self/<path>` is its own `http://127.0.0.1:<port>/<path>`),
 * `/cookies`, `/echo-head`, `/ws`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ask, echoed } from '../support/consumer.ts'
import { RUNTIMES, startContractEnv, startEdgeOrigin, type ContractEnv, type EdgeOrigin } from '../support/contract-env.ts'
import { runtimeCommand, startAgent, startProcess, stopAll, tempDir, TEST_ADMIN_TOKEN, TEST_SECRET, type RuntimeName } from '../support/processes.ts'
import { probeWebSocket } from '../support/raw-websocket.ts'
import { tokenFor } from '../support/tokens.ts'

let edge: Promise<EdgeOrigin>
beforeAll(() => {
  edge = startEdgeOrigin()
})
afterAll(stopAll)

/** The embedding host on `runtime`, Burrow mounted at `/prefix`, browser logins allowed there; alice's agent up. */
async function startEmbedded(runtime: RuntimeName, to: string): Promise<{ port: number; token: string }> {
  const [cmd, args] = runtimeCommand(runtime, 'test/fixtures/embedded-gateway.ts', ['/prefix'])
  const proc = startProcess(cmd, args, {
    PORT: '0',
    HOST: '127.0.0.1',
    BURROW_DATA_DIR: tempDir(),
    BURROW_SECRET: TEST_SECRET,
    BURROW_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    PATH_ROUTING_LOGIN: '1',
  })
  const port = Number((await proc.waitFor(/Burrow gateway on http:\/\/[^:]+:(\d+)/, 30_000))[1])
  const token = await tokenFor('alice')
  await startAgent(`http://127.0.0.1:${port}/prefix`, token, to)
  return { port, token }
}

// The service's redirects, by `to`: what the consumer must see under a tunnel prefix of `prefix`.
const redirects = (publicOrigin: string, prefix: string): [string, string][] => [
  ['/landing', `${prefix}landing`],
  ['/landing?x=1#top', `${prefix}landing?x=1#top`],
  ['self/landing', `${publicOrigin}${prefix}landing`],
  ['self/deep/page?x=1', `${publicOrigin}${prefix}deep/page?x=1`],
  // Not the service's host, nor the public one: untouched.
  ['http://elsewhere.example/x', 'http://elsewhere.example/x'],
  ['landing', 'landing'],
]

for (const runtime of RUNTIMES) {
  describe(`response rewrites, gateway on ${runtime}`, () => {
    let env: ContractEnv
    let embedded: { port: number; token: string }
    beforeAll(async () => {
      const e = await edge
      ;[env, embedded] = await Promise.all([
        startContractEnv(runtime, e, [{ user: 'alice' }], { BURROW_BASE_DOMAIN: 'localhost' }),
        startEmbedded(runtime, e.url),
      ])
    })
    const auth = (token: string): [string, string][] => [['Authorization', `Bearer ${token}`]]

    test('path routing: Location moves under /t/alice/, absolute ones to the service itself point at the public host', async () => {
      for (const [to, expected] of redirects(`http://${env.host}`, '/t/alice/')) {
        const r = await ask({ port: env.port, host: env.host, target: `/t/alice/redirect?to=${encodeURIComponent(to)}`, headers: auth(env.tokens.alice!) })
        expect({ to, status: r.status, location: r.header('location') }).toEqual({ to, status: 302, location: expected })
      }
      // The rewritten redirect leads where the service meant.
      const landed = await ask({ port: env.port, host: env.host, target: '/t/alice/landing', headers: auth(env.tokens.alice!) })
      expect(landed.text()).toBe('landed')
    })

    test('path routing: Set-Cookie Path=/ becomes Path=/t/alice/, Path=/app becomes /t/alice/app, no Path stays none', async () => {
      const r = await ask({ port: env.port, host: env.host, target: '/t/alice/cookies', headers: auth(env.tokens.alice!) })
      expect(r.all('set-cookie')).toEqual(['sid=abc; Path=/t/alice/; HttpOnly', 'pref=dark; path=/t/alice/app; SameSite=Lax', 'plain=1'])
    })

    test('Host routing: an absolute Location to the service itself names the public host, path unchanged; cookies untouched', async () => {
      const publicHost = `alice.localhost:${env.port}`
      for (const [to, expected] of redirects(`http://${publicHost}`, '/')) {
        const r = await ask({ port: env.port, host: publicHost, target: `/redirect?to=${encodeURIComponent(to)}`, headers: auth(env.tokens.alice!) })
        expect({ to, status: r.status, location: r.header('location') }).toEqual({ to, status: 302, location: expected })
      }
      const cookies = await ask({ port: env.port, host: publicHost, target: '/cookies', headers: auth(env.tokens.alice!) })
      expect(cookies.all('set-cookie')).toEqual(['sid=abc; Path=/; HttpOnly', 'pref=dark; path=/app; SameSite=Lax', 'plain=1'])
    })

    test('mounted under /prefix: /prefix/t/alice/ reaches the service with the whole prefix stripped', async () => {
      const host = `127.0.0.1:${embedded.port}`
      expect((await ask({ port: embedded.port, host, target: '/' })).text()).toBe('host app')
      const r = await ask({ port: embedded.port, host, target: '/prefix/t/alice/echo-head?q=1', headers: auth(embedded.token) })
      expect(r.status).toBe(200)
      expect(echoed(r).target).toBe('/echo-head?q=1')
      expect(echoed(r).all('authorization')).toEqual([])
    })

    test('mounted under /prefix: Location, Set-Cookie Path, the login redirect and its cookie all include /prefix', async () => {
      const host = `127.0.0.1:${embedded.port}`
      for (const [to, expected] of redirects(`http://${host}`, '/prefix/t/alice/')) {
        const r = await ask({ port: embedded.port, host, target: `/prefix/t/alice/redirect?to=${encodeURIComponent(to)}`, headers: auth(embedded.token) })
        expect({ to, status: r.status, location: r.header('location') }).toEqual({ to, status: 302, location: expected })
      }
      const cookies = await ask({ port: embedded.port, host, target: '/prefix/t/alice/cookies', headers: auth(embedded.token) })
      expect(cookies.all('set-cookie')).toEqual(['sid=abc; Path=/prefix/t/alice/; HttpOnly', 'pref=dark; path=/prefix/t/alice/app; SameSite=Lax', 'plain=1'])
      const login = await ask({ port: embedded.port, host, target: `/prefix/t/alice/page?a=1&burrow_token=${embedded.token}` })
      expect([login.status, login.header('location')]).toEqual([302, '/prefix/t/alice/page?a=1'])
      expect(login.all('set-cookie')).toHaveLength(1)
      expect(login.all('set-cookie')[0]).toStartWith(`__burrow_token=${embedded.token}; Path=/prefix/t/alice/;`)
      const withCookie = await ask({ port: embedded.port, host, target: '/prefix/t/alice/echo-head', headers: [['Cookie', `__burrow_token=${embedded.token}`]] })
      expect(withCookie.status).toBe(200)
    })

    test("mounted under /prefix: a WebSocket's 101 carries the service's Set-Cookie with Path=/prefix/t/alice/", async () => {
      const ws = await probeWebSocket({
        port: embedded.port,
        target: '/prefix/t/alice/ws',
        host: `127.0.0.1:${embedded.port}`,
        headers: auth(embedded.token),
        protocols: ['chat.v1', 'chat.v2'],
        send: 'ping',
        expect: 2,
        timeoutMs: 5_000,
      })
      expect(ws.response.head?.status).toBe(101)
      const fields = ws.response.head?.headers ?? []
      expect(fields.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v)).toEqual(['ws=1; Path=/prefix/t/alice/'])
      expect(ws.messages).toEqual(['hello chat.v2', 'ping'])
    })
  })
}
