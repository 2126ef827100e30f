import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createServer, type Server } from 'node:http'
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey } from 'jose'
import WebSocket from 'ws'
import { signToken } from '../../src/auth/tokens.ts'
import { admin } from '../support/admin.ts'
import { startAgent, stopAll, TEST_ADMIN_TOKEN, TEST_SECRET, type AgentProc } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { expectHonestTunnel, rawHttp, seenBy, sshPortOf, startStage, type Stage } from './support/harness.ts'
import { sshOverTcp } from './support/ssh-client.ts'

const ISSUER = 'https://idp.test'
const AUDIENCE = 'burrow'
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

/**
 * Tokens against a real gateway (Bun, LOG_LEVEL=debug so that it logs all it ever would), with an
 * external issuer's JWKS served from this process: what is accepted, what is refused, and that no
 * token ever shows up in a log line or in what the local service receives.
 */
describe('tokens (gateway on bun, with an external issuer)', () => {
  let jwks: Server
  let issuerKey: CryptoKey
  let strangerKey: CryptoKey
  let publicPem: string
  let publicJwk: object
  let stage: Stage
  let agent: AgentProc
  /** Every token this file sends anywhere: none may appear in any log. */
  const used: string[] = []
  const use = (t: string) => (used.push(t), t)

  const external = (claims: Record<string, unknown>, key: CryptoKey = issuerKey, kid = 'k1') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuedAt().sign(key).then(use)

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256')
    issuerKey = pair.privateKey
    strangerKey = (await generateKeyPair('RS256')).privateKey
    publicPem = await exportSPKI(pair.publicKey)
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })))
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r))
    stage = await startStage('bun', {
      LOG_LEVEL: 'debug',
      SSH_PORT: '0',
      BURROW_JWKS_URL: `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`,
      BURROW_JWT_ISSUER: ISSUER,
      BURROW_JWT_AUDIENCE: AUDIENCE,
    })
    use(stage.alice)
    use(stage.bob)
  })
  afterAll(async () => {
    await stopAll()
    jwks.close()
  })

  const asAlice = async (token: string) => {
    const reply = await rawHttp(stage.gw.port, `GET /t/alice/x HTTP/1.1\r\nHost: 127.0.0.1:${stage.gw.port}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
    return reply.status
  }

  test('forged, confused, expired and not-yet-valid tokens are refused; clock skew within 30 s is tolerated', async () => {
    const exp = now() + 600
    const cases: [string, string, number][] = [
      ['alg none', use(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp })}.`), 401],
      ['alg none with a signature', use(`${b64({ alg: 'none' })}.${b64({ sub: 'alice', exp })}.c2ln`), 401],
      ['HS256 with another secret', use(await signToken('another-secret-0123456789-abcdefghijklmnop', 'alice', 600)), 401],
      ['HS256 keyed with the issuer\'s public key PEM (HS/RS confusion)', use(await new SignJWT({ sub: 'alice', exp }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(publicPem))), 401],
      ['HS256 keyed with the issuer\'s JWK JSON', use(await new SignJWT({ sub: 'alice', exp }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)))), 401],
      ['our HS256, expired 5 min ago', use(await signToken(TEST_SECRET, 'alice', 60, Date.now() - 360_000)), 401],
      ['our HS256, expired 10 s ago (within the skew)', use(await signToken(TEST_SECRET, 'alice', 60, Date.now() - 70_000)), 200],
      ['our HS256, valid from 5 min on', use(await new SignJWT({ sub: 'alice', exp, nbf: now() + 300 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_SECRET))), 401],
      ['our HS256, valid from 10 s on (within the skew)', use(await new SignJWT({ sub: 'alice', exp, nbf: now() + 10 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_SECRET))), 200],
      ['our HS256 without a subject', use(await new SignJWT({ exp }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_SECRET))), 401],
      ['the issuer\'s RS256 for alice', await external({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp }), 200],
      ['the issuer\'s RS256 for bob', await external({ sub: 'bob', iss: ISSUER, aud: AUDIENCE, exp }), 403],
      ['RS256 from another issuer', await external({ sub: 'alice', iss: 'https://evil.test', aud: AUDIENCE, exp }), 401],
      ['RS256 for another audience', await external({ sub: 'alice', iss: ISSUER, aud: 'other', exp }), 401],
      ['RS256 expired', await external({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() - 600 }), 401],
      ['RS256 signed by a key not in the JWKS', await external({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp }, strangerKey), 401],
      ['RS256 with an unknown kid', await external({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp }, strangerKey, 'k2'), 401],
      ['a token with its payload swapped', use(stage.alice.replace(/\.[^.]+\./, `.${b64({ sub: 'bob', exp })}.`)), 401],
      ['garbage', use('x'.repeat(3000)), 401],
    ]
    const got = []
    for (const [name, token] of cases) got.push([name, await asAlice(token)])
    expect(got).toEqual(cases.map(([name, , status]) => [name, status]))
    await expectHonestTunnel(stage, expect)
  })

  test('only an Authorization bearer counts: a token in the query, a cookie or Proxy-Authorization gets 401', async () => {
    const t = stage.alice
    for (const extra of [`Cookie: token=${t}\r\n`, `Proxy-Authorization: Bearer ${t}\r\n`, `X-Auth-Token: ${t}\r\n`]) {
      const reply = await rawHttp(stage.gw.port, `GET /t/alice/x HTTP/1.1\r\nHost: 127.0.0.1:${stage.gw.port}\r\n${extra}Connection: close\r\n\r\n`)
      expect(reply.status).toBe(401)
    }
    expect((await rawHttp(stage.gw.port, `GET /t/alice/x?access_token=${t} HTTP/1.1\r\nHost: 127.0.0.1:${stage.gw.port}\r\nConnection: close\r\n\r\n`)).status).toBe(401)
  })

  test('tokens are never forwarded: not in the headers of a request, nor of a WebSocket upgrade', async () => {
    await seenBy(stage.originA)
    const res = await fetch(`${stage.gw.url}/t/alice/x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stage.alice}`, 'proxy-authorization': `Bearer ${stage.alice}`, connection: 'x-secret', 'x-secret': stage.alice },
      body: 'hello',
    })
    expect(res.status).toBe(200)
    const ws = new WebSocket(`ws://127.0.0.1:${stage.gw.port}/t/alice/ws`, { headers: { authorization: `Bearer ${stage.alice}` } })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send('ping'))
      ws.once('message', () => resolve())
      ws.once('error', reject)
    })
    ws.close()
    const seen = await seenBy(stage.originA)
    expect(seen.requests.length).toBe(2)
    for (const r of seen.requests) {
      const everything = JSON.stringify(r)
      expect(everything).not.toContain(stage.alice.split('.')[2]!)
      expect(r.rawHeaders.map((h) => h.toLowerCase())).not.toContain('authorization')
    }
  })

  test('tokens are never logged: not by the gateway at debug level, nor by the agent', async () => {
    // A few more places a token passes: an agent, SSH password logins, admin calls.
    agent = await startAgent(stage.gw.url, use(await tokenFor('carol')), stage.originA.url)
    const sshPort = await sshPortOf(stage.gw)
    await sshOverTcp(sshPort, { username: 'alice', password: stage.alice }).then((s) => s.client.end())
    await sshOverTcp(sshPort, { username: 'alice', password: use(await signToken('wrong-secret-0123456789-abcdefghijklmno', 'alice', 60)) }).catch(() => {})
    await (await admin(stage.gw.url, '/admin/connections')).text()
    await fetch(`${stage.gw.url}/admin/stats`, { headers: { authorization: `Bearer ${use('wrong-admin-token-0123456789')}` } })
    used.push(TEST_ADMIN_TOKEN)
    const logs = stage.gw.proc.output() + agent.proc.output()
    expect(logs).toContain('"level":"debug"')
    const leaked = used.filter((t) => {
      // The whole token, or the part that makes it a token: its signature (or, unsigned, its payload).
      const parts = t.split('.')
      const secretPart = parts.length === 3 && parts[2] !== '' ? parts[2]! : t
      return logs.includes(t) || (secretPart.length >= 16 && logs.includes(secretPart))
    })
    expect(leaked).toEqual([])
    await expectHonestTunnel(stage, expect)
  })
})
