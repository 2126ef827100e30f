import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import { makeCertificates, type TestCertificates } from '../support/certificates.ts'
import { runtimeCommand, startAgent, startGateway, startOrigin, startProcess, stopAll, type Origin, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

// HTTPS and wss served by the gateway itself (TLS_CERT_FILE / TLS_KEY_FILE) on each runtime, with a
// throwaway CA made by openssl; agents trust it with --ca. The test's own clients trust it the same way.
let certs: TestCertificates
let ca: string
let origin: Origin

beforeAll(async () => {
  certs = makeCertificates()
  ca = readFileSync(certs.caCert, 'utf8')
  origin = await startOrigin()
})
afterAll(async () => {
  await stopAll()
  certs.remove()
})

const tlsEnv = () => ({ TLS_CERT_FILE: certs.chain, TLS_KEY_FILE: certs.serverKey })

/** Bun's fetch, trusting the test CA only. */
function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers, tls: { ca } } as RequestInit)
}

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`gateway on ${runtime} over TLS`, () => {
    test('banner says https with the certificate; an agent with --ca tunnels GET, SSE and a consumer wss WebSocket; the service hears X-Forwarded-Proto https', async () => {
      const gw = await startGateway(runtime, tlsEnv())
      expect(gw.url).toStartWith('https://')
      expect(gw.proc.output()).toMatch(/TLS: +CN=localhost \(DNS:localhost, IP Address:127\.0\.0\.1, IP Address:(?:0:0:0:0:0:0:0:1|::1)\), expires 20\d\d-/)
      expect((await get(`${gw.url}/healthz`)).status).toBe(200)
      // Plain fetch does not trust a private CA: the gateway really serves that certificate.
      await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow()

      const alice = await tokenFor('alice')
      // The agent on the gateway's runtime: Bun's own ws client, Deno's and Node's npm ws.
      await startAgent(gw.url, alice, origin.url, { runtime, extra: ['--ca', certs.caCert] })
      const auth = { authorization: `Bearer ${alice}` }
      const hello = await get(`${gw.url}/t/alice/hello?tls=1`, auth)
      expect(await hello.text()).toBe('hello from origin ?tls=1')
      const seen = (await (await get(`${gw.url}/t/alice/echo-headers`, auth)).json()) as { headers: Record<string, string> }
      expect(seen.headers['x-forwarded-proto']).toBe('https')
      expect(seen.headers.authorization).toBeUndefined()

      const sse = await get(`${gw.url}/t/alice/sse?n=3&every=10`, auth)
      expect((await sse.text()).match(/^data: /gm)).toHaveLength(3)

      const ws = new WebSocket(`${gw.url.replace('https', 'wss')}/t/alice/ws`, { headers: auth, ca })
      await new Promise((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      const echoed = new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))))
      ws.send(`over tls on ${runtime}`)
      expect(await echoed).toBe(`over tls on ${runtime}`)
      ws.close()
    }, 90_000)
  })
}

describe('trust failures stop the agent with what to do', () => {
  let url: string
  beforeAll(async () => {
    url = (await startGateway('bun', tlsEnv())).url
  })

  test.each(['bun', 'node'] as RuntimeName[])('on %s: no --ca for a private CA → exit 1, "not trusted … pass --ca FILE"', async (runtime) => {
    const agent = await startAgent(url, await tokenFor('bob'), origin.url, { runtime, wait: false })
    expect(await agent.proc.exited()).toBe(1)
    expect(agent.proc.output()).toMatch(/"event":"agent_failed","message":"the gateway's TLS certificate for 127\.0\.0\.1:\d+ is not trusted \(.+\); if it comes from a private CA or is self-signed, pass --ca FILE/)
  }, 30_000)

  test('--ca with an unrelated CA → exit 1, "not signed by the CA given with --ca"', async () => {
    const agent = await startAgent(url, await tokenFor('bob'), origin.url, { wait: false, extra: ['--ca', certs.otherCaCert] })
    expect(await agent.proc.exited()).toBe(1)
    expect(agent.proc.output()).toContain('is not signed by the CA given with --ca')
  }, 30_000)

  test('https:// to a plain-HTTP gateway → exit 1, "does not speak TLS"', async () => {
    const plain = await startGateway('bun')
    const agent = await startAgent(plain.url.replace('http:', 'https:'), await tokenFor('bob'), origin.url, { wait: false, extra: ['--ca', certs.caCert] })
    expect(await agent.proc.exited()).toBe(1)
    expect(agent.proc.output()).toMatch(/does not speak TLS on that port .*served over http:\/\//)
  }, 30_000)

  test('a certificate for another name → exit 1, "does not name 127.0.0.1:PORT"', async () => {
    const wrong = await startGateway('bun', { TLS_CERT_FILE: certs.wrongNameCert, TLS_KEY_FILE: certs.wrongNameKey })
    const agent = await startAgent(wrong.url, await tokenFor('bob'), origin.url, { wait: false, extra: ['--ca', certs.caCert] })
    expect(await agent.proc.exited()).toBe(1)
    expect(agent.proc.output()).toMatch(/the gateway's TLS certificate does not name 127\.0\.0\.1:\d+/)
  }, 30_000)

  test('--ca FILE that is missing or not PEM is a usage error (exit 2) before dialling', async () => {
    for (const [file, says] of [['/nonexistent/ca.pem', 'cannot read (ENOENT)'], [certs.serverKey, 'no PEM certificate in it']] as const) {
      const agent = await startAgent(url, await tokenFor('bob'), origin.url, { wait: false, extra: ['--ca', file] })
      expect(await agent.proc.exited()).toBe(2)
      expect(agent.proc.output()).toContain(`--ca ${file}: ${says}`)
    }
  }, 30_000)

  test('ws-stdio (OpenSSH ProxyCommand) trusts --ca too, and says why without it', async () => {
    const token = await tokenFor('carol')
    const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['ws-stdio', url, '--token', token, '--ca', certs.caCert])
    const bridged = startProcess(cmd, args)
    // The gateway speaks first (RFC 4253 §4.2): its SSH identification arrives through the bridge.
    await bridged.waitFor(/^SSH-2\.0-/m)
    bridged.kill()
    const [cmd2, args2] = runtimeCommand('bun', 'src/cli.ts', ['ws-stdio', url, '--token', token])
    const refused = startProcess(cmd2, args2)
    expect(await refused.exited()).toBe(1)
    expect(refused.output()).toMatch(/burrow ws-stdio: the gateway's TLS certificate for 127\.0\.0\.1:\d+ is not trusted/)
  }, 30_000)
})

describe('the gateway refuses TLS files it cannot serve, at start, naming the file (exit 2)', () => {
  test.each([
    ['a missing certificate', () => ({ TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: certs.serverKey }), /TLS_CERT_FILE \/nonexistent\/cert\.pem: cannot read \(ENOENT\)/],
    ['a key that is not the certificate\'s', () => ({ TLS_CERT_FILE: certs.serverCert, TLS_KEY_FILE: certs.strayKey }), /TLS_KEY_FILE \S+stray\.key is not the private key of the certificate in TLS_CERT_FILE/],
    ['a certificate given as the key', () => ({ TLS_CERT_FILE: certs.serverCert, TLS_KEY_FILE: certs.serverCert }), /TLS_KEY_FILE \S+server\.crt: not a PEM private key/],
    ['only one of the pair', () => ({ TLS_CERT_FILE: certs.serverCert }), /TLS_KEY_FILE/],
  ])('%s', async (_what, env, says) => {
    const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['serve'])
    const proc = startProcess(cmd, args, { PORT: '0', HOST: '127.0.0.1', BURROW_DATA_DIR: certs.dir + '/data', ...env() })
    expect(await proc.exited()).toBe(2)
    expect(proc.output()).toMatch(says)
    expect(proc.output()).not.toContain('Burrow gateway on')
  }, 30_000)
})
