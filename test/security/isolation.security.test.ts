import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { stopAll } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { expectHonestTunnel, jsonOf, rawHttp, RUNTIMES, seenBy, sshPortOf, startStage, type Stage } from './support/harness.ts'
import { sshOverTcp, sshOverWebSocket } from './support/ssh-client.ts'

afterAll(stopAll)

/**
 * Request targets with which alice (holding her own token) tries to reach bob's tunnel. Each runtime
 * parses them differently (Bun and Node normalise dot segments, Deno does not; README: Security
 * model), so the test does not pin one answer: it pins that none of them reaches bob's service.
 */
const PATH_TRICKS = [
  '/t/alice/../bob/x',
  '/t/alice/%2e%2e/bob/x',
  '/t/alice/%2E%2E/bob/x',
  '/t/alice/.%2e/bob/x',
  '/t/alice/..%2fbob/x',
  '/t/alice%2f..%2fbob/x',
  '/t/alice/..\\bob/x',
  '/./t/bob/x',
  '/x/../t/bob/x',
  '//t/bob/x',
  '/t//bob/x',
  '/T/bob/x',
  '/t/BOB/x',
  '/t/Bob/x',
  '/t/bob./x',
  '/t/bob%2e/x',
  '/t/bob%00/x',
  '/t/bob%20/x',
  '/t/%62ob/x',
  '/t/bob;x/x',
  '/t/bob?/x',
  '/t/bob#/x',
]

/** Host headers with which alice tries to reach bob's tunnel through Host routing. */
const HOST_TRICKS = [
  'bob.burrow.test',
  'BOB.Burrow.Test.',
  'bob.burrow.test..',
  'bob.burrow.test:80',
  'bob.evil.com',
  'bob.burrow.test.evil.com',
  'x.bob.burrow.test',
  'bob%2eburrow.test',
  'alice.burrow.test/../bob',
  'bob.burrow.test@alice.burrow.test',
  'alice.burrow.test@bob.burrow.test',
  '[bob.burrow.test]',
]

function get(target: string, host: string, token?: string, extra = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}${extra}Connection: close\r\n\r\n`
}

for (const runtime of RUNTIMES) {
  describe(`tenant isolation (gateway on ${runtime})`, () => {
    let stage: Stage
    let gwHost: string
    beforeAll(async () => {
      stage = await startStage(runtime)
      gwHost = `127.0.0.1:${stage.gw.port}`
    })
    // Each attack starts with empty records (the honest check of the previous one reached bob).
    beforeEach(() => Promise.all([seenBy(stage.originA), seenBy(stage.originB)]).then(() => {}))

    test('path tricks with alice\'s token never reach bob\'s service; what does get through reaches alice\'s', async () => {
      for (const target of PATH_TRICKS) {
        const reply = await rawHttp(stage.gw.port, get(target, gwHost, stage.alice))
        const body = jsonOf(reply)
        // Either the gateway refused it, or alice's own service (A) answered it.
        if (reply.status === 200) expect({ target, origin: body?.origin }).toEqual({ target, origin: 'A' })
        else expect({ target, refused: reply.status >= 400 && reply.status < 500 }).toEqual({ target, refused: true })
      }
      expect((await seenBy(stage.originB)).requests).toEqual([])
      await expectHonestTunnel(stage, expect)
    })

    test('Host tricks with alice\'s token never reach bob\'s service', async () => {
      for (const host of HOST_TRICKS) {
        const reply = await rawHttp(stage.gw.port, get('/x', host, stage.alice))
        if (reply.status === 200) expect({ host, origin: jsonOf(reply)?.origin }).toEqual({ host, origin: 'A' })
        else expect({ host, refused: reply.status >= 400 && reply.status < 500 }).toEqual({ host, refused: true })
      }
      // Two Host fields, and a Host with a tab: refused outright by the runtime or the gateway.
      for (const extra of ['Host: bob.burrow.test\r\n', 'X-Forwarded-Host: bob.burrow.test\r\n', 'Forwarded: host=bob.burrow.test\r\n']) {
        const reply = await rawHttp(stage.gw.port, get('/x', 'alice.burrow.test', stage.alice, extra))
        if (reply.status === 200) expect(jsonOf(reply)?.origin).toBe('A')
        else expect(reply.status).toBe(400)
      }
      expect((await seenBy(stage.originB)).requests).toEqual([])
      await expectHonestTunnel(stage, expect)
    })

    test('an absolute-form target naming another host than Host is refused or routed by Host, never to bob', async () => {
      const cases = [
        get(`http://${gwHost}/t/bob/x`, gwHost, stage.alice),
        get('http://bob.burrow.test/x', 'alice.burrow.test', stage.alice),
        get('http://evil.example/t/bob/x', gwHost, stage.alice),
        get(`http://${gwHost}/t/alice/x`, 'bob.burrow.test', stage.alice),
      ]
      const statuses: number[] = []
      for (const request of cases) {
        const reply = await rawHttp(stage.gw.port, request)
        statuses.push(reply.status)
        if (reply.status === 200) expect(jsonOf(reply)?.origin).toBe('A')
      }
      // Deno and Node give Hono the target's authority, so the gateway sees the disagreement and
      // refuses it (400); Bun drops the authority and keeps Host, so only Host routes.
      if (runtime === 'bun') expect(statuses).toEqual([403, 200, 403, 403])
      else expect(statuses).toEqual([403, 400, 400, 400])
      expect((await seenBy(stage.originB)).requests).toEqual([])
      await expectHonestTunnel(stage, expect)
    })

    test('honest spellings still work: mixed-case Host with a trailing dot, a percent-encoded tunnel name', async () => {
      const viaHost = await rawHttp(stage.gw.port, get('/p?x=1', 'ALICE.Burrow.Test.', stage.alice))
      expect([viaHost.status, jsonOf(viaHost)?.origin, jsonOf(viaHost)?.url]).toEqual([200, 'A', '/p?x=1'])
      const encoded = await rawHttp(stage.gw.port, get('/t/%61lice/p/q?x=1', gwHost, stage.alice))
      expect([encoded.status, jsonOf(encoded)?.url]).toEqual([200, '/p/q?x=1'])
      const doubleSlash = await rawHttp(stage.gw.port, get('/t/alice//p', gwHost, stage.alice))
      expect([doubleSlash.status, jsonOf(doubleSlash)?.url]).toEqual([200, '//p'])
    })

    test('no token, another user\'s token, or a token for a name that is not a tunnel: refused, nothing forwarded', async () => {
      const mallory = await tokenFor('mallory')
      const upper = await tokenFor('Alice')
      const cases: [string, string | undefined, number][] = [
        ['/t/alice/x', undefined, 401],
        ['/t/alice/x', mallory, 403],
        ['/t/alice/x', upper, 403],
        ['/t/alice/x', stage.bob, 403],
        ['/t/bob/x', stage.alice, 403],
        // Bun resolves the dot segment before the gateway sees it (then: no token, 401); the others refuse it.
        ['/t/bob/../alice/x', undefined, runtime === 'bun' ? 401 : 400],
        ['/t/nobody/x', undefined, 401],
        ['/t/nobody/x', stage.alice, 403],
      ]
      for (const [target, token, status] of cases) {
        const reply = await rawHttp(stage.gw.port, get(target, gwHost, token))
        expect({ target, status: reply.status }).toEqual({ target, status })
      }
      for (const host of ['alice.burrow.test', 'bob.burrow.test']) {
        const reply = await rawHttp(stage.gw.port, get('/x', host, mallory))
        expect({ host, status: reply.status }).toEqual({ host, status: 403 })
      }
      expect((await seenBy(stage.originA)).requests).toEqual([])
      expect((await seenBy(stage.originB)).requests).toEqual([])
      await expectHonestTunnel(stage, expect)
    })

    test('an agent registers only its own user\'s tunnel, whatever it asks to bind', async () => {
      // The SSH user name must be the token's user.
      await expect(sshOverWebSocket(stage.gw.port, stage.alice, { username: 'bob' })).rejects.toThrow()
      // A token whose subject is not a tunnel name gets no WebSocket at all.
      await expect(sshOverWebSocket(stage.gw.port, await tokenFor('Bob'), { username: 'Bob' })).rejects.toThrow(/403/)
      // Alice asks to bind bob's name: she gets her own tunnel, bob's keeps going to bob.
      const s = await sshOverWebSocket(stage.gw.port, stage.alice, { username: 'alice' })
      const served: string[] = []
      s.client.on('tcp connection', (_info, _accept, reject) => {
        served.push('alice-client')
        reject()
      })
      const port = await new Promise<number>((resolve, reject) => s.client.forwardIn('bob.burrow.test', 0, (err, p) => (err ? reject(err) : resolve(p))))
      expect(port).toBe(80)
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${stage.gw.url}/t/bob/x`, { headers: { authorization: `Bearer ${stage.bob}` } })
        expect(((await res.json()) as { origin: string }).origin).toBe('B')
      }
      s.client.end()
      await s.closed
      expect(served).toEqual([])
      await expectHonestTunnel(stage, expect)
    })
  })
}

describe('tenant isolation on SSH_PORT (gateway on bun)', () => {
  test('an OpenSSH-style login binds the SSH user to the token, and a user name that is not a tunnel name cannot forward', async () => {
    const stage = await startStage('bun', { SSH_PORT: '0' })
    const sshPort = await sshPortOf(stage.gw)
    await expect(sshOverTcp(sshPort, { username: 'bob', password: stage.alice })).rejects.toThrow()
    const odd = await sshOverTcp(sshPort, { username: 'Bob', password: await tokenFor('Bob') })
    const forwarded = await new Promise<string>((resolve) => odd.client.forwardIn('', 80, (err) => resolve(err ? 'refused' : 'accepted')))
    expect(forwarded).toBe('refused')
    await odd.closed
    await expectHonestTunnel(stage, expect)
  })
})
