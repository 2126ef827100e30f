/**
 * Seeing a gateway (issue 12), on a gateway on Bun with one agent, both at LOG_LEVEL=debug:
 * request ids followed from the consumer through the gateway's log, the agent's log and the local
 * service; /metrics parsed as Prometheus text while a scripted workload runs (histogram counts,
 * the bytes of a stream still running); the request inspector; and the logs of every process
 * grepped for every credential the run used.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { Client } from 'ssh2'
import { admin, eventually, logLines } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll, TEST_ADMIN_TOKEN, type AgentProc, type GatewayProc, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

const SLOW_TEST_MS = 60_000

interface Family {
  name: string
  type: string
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[]
}

/**
 * /metrics parsed: each family by name. parse-prometheus-text-format folds a histogram's series
 * into one and drops their labels, so histograms are also read as their plain samples
 * (`<name>_bucket`, `_sum`, `_count` with labels) by parsing the text once more with their TYPE
 * lines as untyped.
 */
async function scrape(gw: GatewayProc): Promise<Map<string, Family>> {
  const res = await admin(gw.url, '/metrics')
  expect(res.status).toBe(200)
  const text = await res.text()
  const typed = parsePrometheusTextFormat(text) as Family[]
  const plain = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')) as Family[]
  // A histogram's series interleave their _bucket/_sum/_count runs: the same name comes back.
  const out = new Map<string, Family>()
  for (const f of plain) {
    const seen = out.get(f.name)
    if (seen === undefined) out.set(f.name, { ...f, metrics: [...f.metrics] })
    else seen.metrics.push(...f.metrics)
  }
  for (const f of typed) if (f.type === 'HISTOGRAM') out.set(`${f.name}:type`, f)
  return out
}

/** The value of one sample of a counter or gauge whose labels include `labels`; 0 when absent. */
function sample(m: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = m.get(name)
  const hit = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))
  return hit === undefined ? 0 : Number(hit.value)
}

/** A histogram series' count (labels as for sample()). */
function histogramCount(m: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  expect(m.get(`${name}:type`)?.type).toBe('HISTOGRAM')
  return sample(m, `${name}_count`, labels)
}

describe('request ids, metrics, inspector and logs (gateway on Bun, LOG_LEVEL=debug)', () => {
  let origin: Origin
  let gw: GatewayProc
  let agent: AgentProc
  let alice: string
  let sshPort: number

  beforeAll(async () => {
    origin = await startOrigin()
    gw = await startGateway('bun', { LOG_LEVEL: 'debug', SSH_PORT: '0', PATH_ROUTING_LOGIN: '1' })
    sshPort = Number((await gw.proc.waitFor(/SSH listener: \S+:(\d+)/))[1])
    alice = await tokenFor('alice')
    agent = await startAgent(gw.url, alice, origin.url, { env: { LOG_LEVEL: 'debug' } })
  }, SLOW_TEST_MS)
  afterAll(stopAll)

  const asAlice = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    fetch(`${gw.url}/t/alice${path}`, { ...init, headers: { authorization: `Bearer ${alice}`, ...init.headers } })

  test("a consumer's X-Request-Id reaches the service, comes back, and is in the gateway's and the agent's log", async () => {
    const id = 'req-0123456789abcdef'
    const res = await asAlice('/echo-headers', { headers: { 'x-request-id': id } })
    expect(res.headers.get('x-request-id')).toBe(id)
    const seen = (await res.json()) as { headers: Record<string, string> }
    expect(seen.headers['x-request-id']).toBe(id)
    await eventually('the gateway to log the request', () => logLines(gw.proc, 'request').find((l) => l.requestId === id))
    expect(logLines(gw.proc, 'request').find((l) => l.requestId === id)).toMatchObject({ user: 'alice', method: 'GET', path: '/echo-headers', status: 200 })
    await eventually('the agent to log the request', () => logLines(agent.proc, 'agent_request').find((l) => l.requestId === id))
  }, SLOW_TEST_MS)

  test('an id that is too long or has other characters is replaced by a UUID; none sent: one is made', async () => {
    for (const sent of ['x'.repeat(129), 'has space', 'quote"d', undefined]) {
      const res = await asAlice('/echo-headers', { headers: sent === undefined ? {} : { 'x-request-id': sent } })
      const id = res.headers.get('x-request-id')
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(((await res.json()) as { headers: Record<string, string> }).headers['x-request-id']).toBe(id!)
    }
  }, SLOW_TEST_MS)

  test("Burrow's own error answers carry the id too (404 no agent, 401), and a service's answer gets the gateway's", async () => {
    const none = await fetch(`${gw.url}/t/nobody/x`, { headers: { authorization: `Bearer ${await tokenFor('nobody')}`, 'x-request-id': 'e-404' } })
    expect([none.status, none.headers.get('x-request-id')]).toEqual([404, 'e-404'])
    const denied = await fetch(`${gw.url}/t/alice/x`, { headers: { 'x-request-id': 'e-401' } })
    expect([denied.status, denied.headers.get('x-request-id')]).toEqual([401, 'e-401'])
    // The service's own answer keeps the gateway's id, not one the service made up.
    const own = await asAlice('/nope', { headers: { 'x-request-id': 'e-origin' } })
    expect([own.status, own.headers.get('x-request-id')]).toEqual([404, 'e-origin'])
  }, SLOW_TEST_MS)

  test('/metrics: request, TTFB and queue-wait histograms count a scripted workload', async () => {
    const before = await scrape(gw)
    const ok = (m: Map<string, Family>) => histogramCount(m, 'burrow_request_duration_seconds', { status_class: '2xx', streamed: 'false' })
    const fourxx = (m: Map<string, Family>) => histogramCount(m, 'burrow_request_duration_seconds', { status_class: '4xx', streamed: 'false' })
    for (let i = 0; i < 7; i++) expect((await asAlice('/hello')).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await asAlice('/missing')).status).toBe(404)
    const after = await eventually('the last request to be counted', async () => {
      const m = await scrape(gw)
      return ok(m) - ok(before) === 7 && fourxx(m) - fourxx(before) === 3 ? m : undefined
    })
    expect(histogramCount(after, 'burrow_time_to_first_byte_seconds') - histogramCount(before, 'burrow_time_to_first_byte_seconds')).toBe(10)
    expect(histogramCount(after, 'burrow_queue_wait_seconds') - histogramCount(before, 'burrow_queue_wait_seconds')).toBe(10)
    expect(sample(after, 'burrow_requests_total') - sample(before, 'burrow_requests_total')).toBe(10)
    expect(sample(after, 'burrow_user_requests_total', { user: 'alice' }) - sample(before, 'burrow_user_requests_total', { user: 'alice' })).toBe(10)
    // Buckets are cumulative, and +Inf is the count.
    const labels = { status_class: '2xx', streamed: 'false' }
    const buckets = after.get('burrow_request_duration_seconds_bucket')!.metrics.filter((x) => x.labels?.status_class === '2xx' && x.labels?.streamed === 'false')
    const counts = buckets.map((b) => Number(b.value))
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThanOrEqual(counts[i - 1]!)
    expect(buckets.at(-1)!.labels!.le).toBe('+Inf')
    expect(counts.at(-1)).toBe(histogramCount(after, 'burrow_request_duration_seconds', labels))
  }, SLOW_TEST_MS)

  test('/metrics: burrow_bytes_total{direction="in"} grows while one stream still runs; it is an open stream', async () => {
    const before = sample(await scrape(gw), 'burrow_bytes_total', { direction: 'in' })
    const res = await asAlice('/sse?n=60&every=50')
    const reader = res.body!.getReader()
    let got = 0
    const readSome = async (n: number) => {
      while (got < n) got += (await reader.read()).value?.byteLength ?? 0
    }
    await readSome(500)
    const first = await eventually('the first bytes to be counted', async () => {
      const m = await scrape(gw)
      return sample(m, 'burrow_bytes_total', { direction: 'in' }) > before ? m : undefined
    })
    expect(sample(first, 'burrow_open_streams', { kind: 'http' })).toBe(1)
    const mid = sample(first, 'burrow_bytes_total', { direction: 'in' })
    await readSome(got + 1000)
    const second = await eventually('more bytes to be counted', async () => {
      const m = await scrape(gw)
      return sample(m, 'burrow_bytes_total', { direction: 'in' }) > mid ? m : undefined
    })
    // Still running: the request has not ended, its bytes were counted as they flowed.
    expect(sample(second, 'burrow_open_streams', { kind: 'http' })).toBe(1)
    while (!(await reader.read()).done) {}
    const done = await eventually('the stream to end', async () => {
      const m = await scrape(gw)
      return sample(m, 'burrow_open_streams', { kind: 'http' }) === 0 ? m : undefined
    })
    expect(histogramCount(done, 'burrow_request_duration_seconds', { status_class: '2xx', streamed: 'true' })).toBeGreaterThanOrEqual(1)
  }, SLOW_TEST_MS)

  test("a consumer WebSocket's message bytes count both ways while it is open: metrics, the user's, the connection's, the inspector", async () => {
    const figures = async () => {
      const m = await scrape(gw)
      const conns = (await (await admin(gw.url, '/admin/connections')).json()) as { connections: { user: string; bytesIn: number; bytesOut: number }[] }
      const conn = conns.connections.find((c) => c.user === 'alice')!
      const inspected = ((await (await admin(gw.url, '/admin/tunnels/alice/requests')).json()) as { requests: Record<string, unknown>[] }).requests.find((r) => r.requestId === 'ws-bytes')
      return {
        in: sample(m, 'burrow_bytes_total', { direction: 'in' }),
        out: sample(m, 'burrow_bytes_total', { direction: 'out' }),
        userIn: sample(m, 'burrow_user_bytes_total', { user: 'alice', direction: 'in' }),
        userOut: sample(m, 'burrow_user_bytes_total', { user: 'alice', direction: 'out' }),
        connIn: conn.bytesIn,
        connOut: conn.bytesOut,
        inspected,
      }
    }
    const before = await figures()
    // The origin's /ws echoes each message: 3000 text bytes (ASCII) and 5000 binary bytes go in, the same come back.
    const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/t/alice/ws`, { headers: { authorization: `Bearer ${alice}`, 'x-request-id': 'ws-bytes' } } as unknown as string[])
    ws.binaryType = 'arraybuffer'
    const echoed: number[] = []
    ws.onmessage = (e) => echoed.push(typeof e.data === 'string' ? e.data.length : (e.data as ArrayBuffer).byteLength)
    await new Promise((resolve, reject) => {
      ws.onopen = resolve
      ws.onerror = reject
    })
    ws.send('x'.repeat(3000))
    ws.send(new Uint8Array(5000))
    await eventually('both echoes', () => (echoed.length === 2 ? true : undefined))
    // Still open: the bytes are there already, on every count.
    const open = await eventually('the messages to be counted', async () => {
      const f = await figures()
      return f.out - before.out >= 8000 && f.in - before.in >= 8000 ? f : undefined
    })
    expect(open.out - before.out).toBe(8000)
    expect(open.in - before.in).toBe(8000)
    expect(open.userOut - before.userOut).toBe(8000)
    expect(open.userIn - before.userIn).toBe(8000)
    expect(open.connOut - before.connOut).toBe(8000)
    expect(open.connIn - before.connIn).toBe(8000)
    expect(open.inspected).toMatchObject({ websocket: true, running: true, bytesIn: 8000, bytesOut: 8000 })
    ws.close()
    const closed = await eventually('the WebSocket to end', async () => {
      const f = await figures()
      return f.inspected?.running === false ? f : undefined
    })
    expect(closed.inspected).toMatchObject({ status: 101, bytesIn: 8000, bytesOut: 8000 })
  }, SLOW_TEST_MS)

  test('GET /admin/tunnels/alice/requests: newest first, no query secrets, bounded at 100', async () => {
    await asAlice('/hello?page=2&access_token=SECRETQ&api_key=K1&x=1', { headers: { 'x-request-id': 'insp-1' } })
    const body = new Uint8Array(1000)
    await (await asAlice('/sha256', { method: 'POST', body, headers: { 'x-request-id': 'insp-2' } })).text()
    const list = (await (await admin(gw.url, '/admin/tunnels/alice/requests')).json()) as { requests: Record<string, unknown>[] }
    expect(list.requests[0]).toMatchObject({ requestId: 'insp-2', method: 'POST', path: '/sha256', status: 200, bytesOut: 1000, client: '127.0.0.1', streamed: false, running: false })
    expect(list.requests[0]!.bytesIn).toBeGreaterThan(0)
    expect(typeof list.requests[0]!.durationMs).toBe('number')
    expect(typeof list.requests[0]!.ttfbMs).toBe('number')
    expect(list.requests[1]).toMatchObject({ requestId: 'insp-1', path: '/hello?page=2&x=1', status: 200 })
    for (let i = 0; i < 110; i++) await (await asAlice(`/hello?i=${i}`)).text()
    const full = (await (await admin(gw.url, '/admin/tunnels/alice/requests')).json()) as { requests: { path: string }[] }
    expect(full.requests).toHaveLength(100)
    expect(full.requests[0]!.path).toBe('/hello?i=109')
    expect(full.requests[99]!.path).toBe('/hello?i=10')
    expect((await fetch(`${gw.url}/admin/tunnels/alice/requests`)).status).toBe(401)
  }, SLOW_TEST_MS)

  test('no credential used in the run appears in any log line (gateway, agent, service) at LOG_LEVEL=debug', async () => {
    const bob = await tokenFor('alice', 1800)
    const carol = await tokenFor('alice', 1700)
    const dave = await tokenFor('alice', 1600)
    const erin = await tokenFor('alice', 1500)
    // Burrow-Token header, a ?burrow_token= browser login and the cookie it sets, a bad bearer.
    expect((await fetch(`${gw.url}/t/alice/hello`, { headers: { 'burrow-token': bob } })).status).toBe(200)
    const login = await fetch(`${gw.url}/t/alice/hello?burrow_token=${carol}`, { redirect: 'manual' })
    expect(login.status).toBe(302)
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!
    expect((await fetch(`${gw.url}/t/alice/hello`, { headers: { cookie } })).status).toBe(200)
    expect((await fetch(`${gw.url}/t/alice/hello`, { headers: { authorization: `Bearer ${dave}x` } })).status).toBe(401)
    // A token as the SSH password on SSH_PORT.
    await new Promise<void>((resolve, reject) => {
      const ssh = new Client()
      ssh.on('ready', () => ssh.end())
      ssh.on('close', () => resolve())
      ssh.on('error', reject)
      ssh.connect({ host: '127.0.0.1', port: sshPort, username: 'alice', password: erin, hostVerifier: () => true })
    })
    await eventually('the SSH login to be logged', () => /ssh|session/i.test(gw.proc.output()) || undefined)
    const outputs = { gateway: gw.proc.output(), agent: agent.proc.output(), service: origin.proc.output() }
    for (const [who, out] of Object.entries(outputs)) {
      for (const secret of [alice, bob, carol, dave, erin, cookie.split('=')[1]!, TEST_ADMIN_TOKEN, 'SECRETQ', 'K1']) {
        expect([who, out.includes(secret)]).toEqual([who, false])
      }
    }
    // And everything the gateway and the agent printed on stderr is one JSON object per line.
    for (const [who, out] of [['gateway', outputs.gateway], ['agent', outputs.agent]] as const) {
      const stray = out.split('\n').filter((l) => l.trim() !== '' && !isJsonObject(l) && !isBanner(l))
      expect([who, stray]).toEqual([who, []])
    }
  }, SLOW_TEST_MS)
})

function isJsonObject(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object'
  } catch {
    return false
  }
}

/** What the CLIs print for people on stdout (the gateway's banner, the agent's status line). */
function isBanner(line: string): boolean {
  return /^(Burrow gateway on|SSH host key:|SSH listener:|  |Admin token|Data dir|connected \(|connecting|Tunnel|Forwarding|TLS)/.test(line)
}
