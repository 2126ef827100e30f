/**
 * The consumer contract end to end (README "Consumers"): where a
 * consumer's token may be, what the local service then receives, what is refused and how, on a
 * gateway on Bun, Deno and Node. The local service is test/fixtures/edge-origin.ts: `/echo-head`
 * answers with the request's raw header fields, so every assertion on "the service receives" is
 * about the bytes that crossed the tunnel. Agents run on Bun.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { signToken } from '../../src/auth/tokens.ts'
import { ask, echoed, type Answer } from '../support/consumer.ts'
import { RUNTIMES, startContractEnv, startEdgeOrigin, type ContractEnv, type EdgeOrigin } from '../support/contract-env.ts'
import { stopAll } from '../support/processes.ts'
import type { HeaderList } from '../support/raw-http.ts'

let edge: Promise<EdgeOrigin>
// A well-formed token for alice that the gateway must refuse: signed with another secret.
let forged: string
beforeAll(async () => {
  edge = startEdgeOrigin()
  forged = await signToken('another-secret-0123456789-abcdefghijklmnop', 'alice', 3600)
})
afterAll(stopAll)

for (const runtime of RUNTIMES) {
  describe(`consumer contract, gateway on ${runtime}`, () => {
    let env: ContractEnv
    beforeAll(async () => {
      env = await startContractEnv(runtime, await edge, [{ user: 'alice' }, { user: 'bob' }, { user: 'pub', extra: ['--public'] }], { BURROW_BASE_DOMAIN: 'localhost' })
    })
    const get = (target: string, headers: HeaderList = [], method = 'GET', host?: string) => ask({ port: env.port, host: host ?? env.host, target, headers, method })
    const bearer = (user: string): [string, string] => ['Authorization', `Bearer ${env.tokens[user]}`]

    test('Authorization: Bearer <token>: forwarded without Authorization, under path and Host routing', async () => {
      for (const [target, host] of [['/t/alice/echo-head?x=1', env.host], ['/echo-head?x=1', `alice.localhost:${env.port}`]] as const) {
        const r = await get(target, [bearer('alice'), ['X-App', 'kept']], 'GET', host)
        expect(r.status).toBe(200)
        const seen = echoed(r)
        expect(seen.target).toBe('/echo-head?x=1')
        expect(seen.all('authorization')).toEqual([])
        expect(seen.all('x-app')).toEqual(['kept'])
      }
    })

    test("Burrow-Token with Authorization: Basic: the service gets that Authorization byte for byte, and no Burrow-Token", async () => {
      const r = await get('/t/alice/echo-head', [['Burrow-Token', env.tokens.alice!], ['Authorization', 'Basic dTpw']])
      expect(r.status).toBe(200)
      const seen = echoed(r)
      expect(seen.all('authorization')).toEqual(['Basic dTpw'])
      expect(seen.all('burrow-token')).toEqual([])
      // The app's own Bearer token (not Burrow's) is the app's too.
      const app = echoed(await get('/t/alice/echo-head', [['Burrow-Token', env.tokens.alice!], ['Authorization', 'Bearer app-session-42']]))
      expect(app.all('authorization')).toEqual(['Bearer app-session-42'])
      // Unless it repeats the very token that authenticated the request: no Burrow token reaches the service.
      for (const credential of [['Burrow-Token', env.tokens.alice!], ['Cookie', `__burrow_token=${env.tokens.alice}`]] as [string, string][]) {
        const same = echoed(await get('/t/alice/echo-head', [credential, bearer('alice')]))
        expect({ via: credential[0], authorization: same.all('authorization') }).toEqual({ via: credential[0], authorization: [] })
      }
    })

    test('host names are case-insensitive (RFC 3986 §3.2.2): a Host with capitals and a port is routed like its lower-case spelling', async () => {
      const spellings = [['/t/alice/echo-head', `LocalHost:${env.port}`], ['/echo-head', `Alice.LOCALHOST:${env.port}`]] as const
      const outcomes = []
      for (const [target, host] of spellings) {
        const r = await get(target, [bearer('alice')], 'GET', host)
        outcomes.push({ host, status: r.status, reached: r.status === 200 ? echoed(r).target : r.text().slice(0, 120) })
      }
      expect(outcomes).toEqual(spellings.map(([, host]) => ({ host, status: 200, reached: '/echo-head' })))
    })

    test('two Burrow-Token fields: 400 bad_request, nothing forwarded', async () => {
      const r = await get('/t/alice/echo-head', [['Burrow-Token', env.tokens.alice!], ['Burrow-Token', env.tokens.alice!]])
      expect([r.status, r.errorCode()]).toEqual([400, 'bad_request'])
      expect(r.errorMessage()).toMatch(/more than once/)
    })

    test("another user's token: 403; no token: 401; a bad token: 401 (Bearer or Burrow-Token)", async () => {
      const cases: [HeaderList, number, string][] = [
        [[bearer('bob')], 403, 'forbidden'],
        [[['Burrow-Token', env.tokens.bob!]], 403, 'forbidden'],
        [[], 401, 'unauthorized'],
        [[['Authorization', `Bearer ${forged}`]], 401, 'unauthorized'],
        [[['Burrow-Token', forged]], 401, 'unauthorized'],
        [[['Authorization', 'Bearer garbage']], 401, 'unauthorized'],
        [[['Authorization', 'Basic dTpw']], 401, 'unauthorized'],
      ]
      for (const [headers, status, code] of cases) {
        const r = await get('/t/alice/echo-head', headers)
        expect({ sent: headers.map(([n]) => n), status: r.status, code: r.errorCode() }).toEqual({ sent: headers.map(([n]) => n), status, code })
      }
    })

    test('whether a tunnel exists is not revealed: /t/nobody/ answers as /t/bob/ does, but to its owner', async () => {
      const answerAt = async (tunnel: string, headers: HeaderList, viaHost: boolean) => {
        const r = viaHost ? await get('/echo-head', headers, 'GET', `${tunnel}.localhost:${env.port}`) : await get(`/t/${tunnel}/echo-head`, headers)
        return { status: r.status, code: r.errorCode(), message: r.errorMessage()?.replaceAll(tunnel, '<tunnel>') }
      }
      for (const viaHost of [false, true]) {
        const credentials: [HeaderList, number][] = [
          [[], 401],
          [[['Authorization', `Bearer ${forged}`]], 401],
          [[bearer('carol')], 403],
          [[['Burrow-Token', env.tokens.carol!]], 403],
        ]
        for (const [headers, status] of credentials) {
          const missing = await answerAt('nobody', headers, viaHost)
          expect(missing.status).toBe(status)
          expect(missing).toEqual(await answerAt('bob', headers, viaHost))
        }
      }
      // Its owner is told: no agent is connected.
      const owner = await get('/t/nobody/echo-head', [bearer('nobody')])
      expect([owner.status, owner.errorCode()]).toEqual([404, 'tunnel_not_found'])
    })

    test('--public: any Authorization reaches the service untouched; Burrow-Token and the login cookies are stripped', async () => {
      for (const auth of ['Bearer garbage', 'Basic dTpw', `Bearer ${env.tokens.alice}`]) {
        const r = await get('/t/pub/echo-head', [['Authorization', auth]])
        expect(r.status).toBe(200)
        expect(echoed(r).all('authorization')).toEqual([auth])
      }
      const r = await get('/t/pub/echo-head', [
        ['Authorization', 'Bearer garbage'],
        ['Burrow-Token', env.tokens.alice!],
        ['Cookie', `__burrow_token=${env.tokens.alice}; app=1; __Host-burrow_token=${env.tokens.alice}; theme=dark`],
      ])
      expect(r.status).toBe(200)
      const seen = echoed(r)
      expect(seen.all('authorization')).toEqual(['Bearer garbage'])
      expect(seen.all('burrow-token')).toEqual([])
      expect(seen.all('cookie')).toEqual(['app=1; theme=dark'])
      // Only the login cookie: the field goes altogether.
      expect(echoed(await get('/t/pub/echo-head', [['Cookie', '__burrow_token=x']])).all('cookie')).toEqual([])
    })

    test("a CORS preflight without credentials reaches a private tunnel's service and its answer comes back as is", async () => {
      const preflight: HeaderList = [
        ['Origin', 'http://app.example'],
        ['Access-Control-Request-Method', 'PUT'],
        ['Access-Control-Request-Headers', 'content-type, x-custom'],
      ]
      const direct = await ask({ port: (await edge).port, host: `127.0.0.1:${(await edge).port}`, method: 'OPTIONS', target: '/cors', headers: preflight })
      expect(direct.status).toBe(204)
      const viaPath = await get('/t/alice/cors', preflight, 'OPTIONS')
      const viaHost = await get('/cors', preflight, 'OPTIONS', `alice.localhost:${env.port}`)
      // Field order is not part of the answer (Deno's server sorts fields by name).
      const policy = (r: Answer) => ({
        status: r.status,
        fields: r.headers.filter(([n]) => /^(access-control-|vary$|x-edge-cors$)/i.test(n)).map(([n, v]) => `${n.toLowerCase()}: ${v}`).sort(),
      })
      expect(policy(direct).fields).toHaveLength(7)
      expect(policy(viaPath)).toEqual(policy(direct))
      expect(policy(viaHost)).toEqual(policy(direct))
    })

    test('an OPTIONS that is not a preflight (no Origin, or no Access-Control-Request-Method) and has no token: 401', async () => {
      for (const headers of [[], [['Origin', 'http://app.example']], [['Access-Control-Request-Method', 'PUT']]] as HeaderList[]) {
        const r = await get('/t/alice/cors', headers, 'OPTIONS')
        expect({ headers, status: r.status, code: r.errorCode() }).toEqual({ headers, status: 401, code: 'unauthorized' })
      }
    })

    test("a service's Set-Cookie for Burrow's login cookie is dropped; its other cookies pass", async () => {
      const viaPath = await get('/t/alice/evil-cookie', [bearer('alice')])
      expect(viaPath.status).toBe(200)
      expect(viaPath.all('set-cookie')).toEqual(['before=1; Path=/t/alice/', 'after=2'])
      const viaHost = await get('/evil-cookie', [bearer('alice')], 'GET', `alice.localhost:${env.port}`)
      expect(viaHost.all('set-cookie')).toEqual(['before=1; Path=/', 'after=2'])
      // A public tunnel's service may not plant one either.
      expect((await get('/t/pub/evil-cookie')).all('set-cookie')).toEqual(['before=1; Path=/t/pub/', 'after=2'])
    })
  })
}
