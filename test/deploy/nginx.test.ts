/**
 * docs/DEPLOY.md's nginx configuration, run: Debian's nginx with the guide's `nginx` block (only its
 * listen address, certificate paths and upstream port replaced), TLS from a CA made here, in front
 * of a real gateway, origin and agent on 127.0.0.1. The agent dials through nginx, and consumers
 * get a plain request, an SSE stream and a WebSocket through it, under path and Host routing.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, killGroup, runCommand, startCommand, userEnv, type Running } from '../support/commands.ts'
import { ROOT, startAgent, startGateway, startOrigin, stopAll, tempDir } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

/** What .ci/run installs when nginx is missing. */
const NGINX_INSTALL = 'apt-get install -y --no-install-recommends nginx'
const work = tempDir('burrow-nginx-')
let nginx: Running | undefined
let base = ''
let ca = ''
let token = ''

/** The guide's ```nginx block. */
function guideBlock(): string {
  const doc = readFileSync(join(ROOT, 'docs/DEPLOY.md'), 'utf8')
  const m = doc.match(/```nginx\n([\s\S]*?)```/)
  if (m === null) throw new Error('docs/DEPLOY.md has no ```nginx block')
  return m[1]!
}

/** The value the guide gives TRUSTED_PROXIES for a proxy on the same host. */
function guideTrustedProxies(): string {
  const doc = readFileSync(join(ROOT, 'docs/DEPLOY.md'), 'utf8')
  const m = doc.match(/^TRUSTED_PROXIES=(\S+)$/m)
  if (m === null) throw new Error('docs/DEPLOY.md gives no TRUSTED_PROXIES= line')
  return m[1]!
}

/** Replace `from` (which must occur exactly once) with `to`. */
function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from)
  if (parts.length !== 2) throw new Error(`expected "${from}" once in the guide's nginx block, found it ${parts.length - 1} times`)
  return parts.join(to)
}

async function openssl(args: string[]): Promise<void> {
  const r = await runCommand('openssl', args, { cwd: work, env: userEnv(), timeoutMs: 20_000 })
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`)
}

beforeAll(async () => {
  const probe = spawnSync('nginx', ['-v'], { encoding: 'utf8' })
  if (probe.error !== undefined) throw new Error(`nginx is not installed (${probe.error.message}). On Debian: ${NGINX_INSTALL}`)
  // A CA, and a certificate for the guide's names (and 127.0.0.1, which the agent dials).
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  await openssl(['req', '-x509', ...ec, '-subj', '/CN=burrow-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'])
  await openssl(['req', ...ec, '-subj', '/CN=gw.example.com', '-keyout', 'gw.key', '-out', 'gw.csr', '-addext', 'subjectAltName=DNS:gw.example.com,DNS:*.gw.example.com,IP:127.0.0.1'])
  await openssl(['x509', '-req', '-in', 'gw.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-copy_extensions', 'copy', '-out', 'gw.pem'])
  ca = readFileSync(join(work, 'ca.pem'), 'utf8')

  const origin = await startOrigin('bun')
  // The guide's TRUSTED_PROXIES line for a proxy on the same host.
  const gw = await startGateway('bun', { BURROW_BASE_DOMAIN: 'gw.example.com', TRUSTED_PROXIES: guideTrustedProxies() })
  const port = await freePort()
  let block = guideBlock()
  block = replaceOnce(block, 'listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`)
  block = replaceOnce(block, 'server 127.0.0.1:8080;', `server 127.0.0.1:${gw.port};`)
  block = replaceOnce(block, '/etc/letsencrypt/live/gw.example.com/fullchain.pem', join(work, 'gw.pem'))
  block = replaceOnce(block, '/etc/letsencrypt/live/gw.example.com/privkey.pem', join(work, 'gw.key'))
  // Everything else nginx needs outside /etc and /var, in the temp dir; workers run as this user.
  const temp = join(work, 'nginx')
  mkdirSync(temp)
  chmodSync(work, 0o755)
  const conf = [
    'daemon off;',
    'worker_processes 1;',
    process.getuid?.() === 0 ? 'user root;' : '',
    `pid ${temp}/nginx.pid;`,
    `error_log ${temp}/error.log warn;`,
    'events { worker_connections 256; }',
    'http {',
    '    access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${temp}/${t};`),
    block,
    '}',
  ].join('\n')
  writeFileSync(join(work, 'nginx.conf'), conf)
  const check = await runCommand('nginx', ['-t', '-c', join(work, 'nginx.conf')], { cwd: work, env: userEnv(), timeoutMs: 20_000 })
  expect(check.code, check.stderr).toBe(0)
  nginx = startCommand('nginx', ['-c', join(work, 'nginx.conf')], { cwd: work, env: userEnv() })
  base = `https://127.0.0.1:${port}`
  // nginx prints nothing when it is up: wait until it answers /healthz through to the gateway.
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${base}/healthz`, { tls: { ca } } as RequestInit).then((r) => r.ok, () => false)
    if (ok) break
    await Bun.sleep(100)
  }
  token = await tokenFor('alice')
  // The agent dials wss:// through nginx and checks its certificate against the test CA.
  await startAgent(base, token, origin.url, { runtime: 'node', env: { NODE_EXTRA_CA_CERTS: join(work, 'ca.pem') } })
}, 120_000)

afterAll(async () => {
  if (nginx !== undefined) killGroup(nginx.pid)
  await stopAll()
  rmSync(work, { recursive: true, force: true })
})

const auth = () => ({ authorization: `Bearer ${token}` })

test('a request reaches the service through nginx, by path and by Host', async () => {
  const byPath = await fetch(`${base}/t/alice/hello?x=1`, { headers: auth(), tls: { ca } } as RequestInit)
  expect(byPath.status).toBe(200)
  expect(await byPath.text()).toBe('hello from origin ?x=1')
  const byHost = await fetch(`${base}/hello`, { headers: { ...auth(), host: 'alice.gw.example.com' }, tls: { ca } } as RequestInit)
  expect(byHost.status).toBe(200)
  expect(await byHost.text()).toBe('hello from origin ')
})

test('an SSE stream arrives event by event, not buffered to its end', async () => {
  const n = 20
  const res = await fetch(`${base}/t/alice/sse?n=${n}&every=100`, { headers: auth(), tls: { ca } } as RequestInit)
  expect(res.status).toBe(200)
  const reader = res.body!.getReader()
  const chunks: string[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(new TextDecoder().decode(value))
  }
  const all = chunks.join('')
  expect(all.match(/^data: /gm)?.length).toBe(n)
  // Buffered, the stream would come as one piece after its last event; streamed, the first
  // piece holds the first event and not the last.
  expect(chunks[0]).toContain('"i":0')
  expect(chunks[0]).not.toContain(`"i":${n - 1}`)
  expect(chunks.length).toBeGreaterThan(1)
})

test("a consumer's WebSocket passes through nginx and the tunnel", async () => {
  const ws = new WebSocket(`wss://127.0.0.1:${base.split(':').at(-1)}/t/alice/ws`, { headers: auth(), tls: { ca } } as unknown as string[])
  const reply = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 10 s')), 10_000)
    ws.onopen = () => ws.send('through nginx')
    ws.onmessage = (e) => {
      clearTimeout(timer)
      resolve(String(e.data))
    }
    ws.onerror = () => {
      clearTimeout(timer)
      reject(new Error('WebSocket error'))
    }
  })
  ws.close()
  expect(reply).toBe('through nginx')
})

test('an upload larger than nginx\'s default body limit streams through', async () => {
  const body = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251)
  const res = await fetch(`${base}/t/alice/sha256`, { method: 'POST', body, headers: auth(), tls: { ca } } as RequestInit)
  expect(res.status).toBe(200)
  const { size, sha256 } = (await res.json()) as { size: number; sha256: string }
  expect(size).toBe(body.length)
  expect(sha256).toBe(new Bun.CryptoHasher('sha256').update(body).digest('hex'))
})

test('with TRUSTED_PROXIES, the gateway knows the consumer used https and who it is', async () => {
  // nginx appends the client's address to X-Forwarded-For; the gateway appends nginx's.
  const echoed = await fetch(`${base}/t/alice/echo-headers`, { headers: { ...auth(), 'x-forwarded-for': '203.0.113.7' }, tls: { ca } } as RequestInit)
  const { headers } = (await echoed.json()) as { headers: Record<string, string> }
  expect(headers['x-forwarded-proto']).toBe('https')
  expect(headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1, 127.0.0.1')
  // Host routing's browser login: behind TLS the cookie is the __Host- one, Secure.
  const login = await fetch(`${base}/page?burrow_token=${token}`, { headers: { host: 'alice.gw.example.com' }, redirect: 'manual', tls: { ca } } as RequestInit)
  expect(login.status).toBe(302)
  expect(login.headers.get('location')).toBe('/page')
  const cookie = login.headers.getSetCookie()[0] ?? ''
  expect(cookie).toStartWith(`__Host-burrow_token=${token};`)
  expect(cookie).toMatch(/; Secure/i)
})
