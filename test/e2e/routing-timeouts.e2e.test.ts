import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { request } from 'node:http'
import { startAgent, startGateway, startOrigin, stopAll, type GatewayProc, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

/** A GET with an explicit Host header (fetch may not let us set one). */
function getWithHost(port: number, host: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('Host routing and upstream timeouts (gateway on Bun)', () => {
  let origin: Origin
  let gw: GatewayProc
  let alice: string

  beforeAll(async () => {
    origin = await startOrigin()
    gw = await startGateway('bun', { BURROW_BASE_DOMAIN: 'burrow.test', UPSTREAM_HEAD_TIMEOUT: '1000', UPSTREAM_IDLE_TIMEOUT: '400' })
    alice = await tokenFor('alice')
    await startAgent(gw.url, alice, origin.url)
  })
  afterAll(stopAll)

  test('<tunnel>.<base domain> reaches the tunnel with the path untouched (case and a trailing dot normalised)', async () => {
    for (const host of ['alice.burrow.test', 'ALICE.Burrow.Test', 'alice.burrow.test.', `alice.burrow.test:${gw.port}`]) {
      const res = await getWithHost(gw.port, host, '/hello?h=1', alice)
      expect({ host, ...res }).toEqual({ host, status: 200, body: 'hello from origin ?h=1' })
    }
  })

  test('a Host that only looks like the base domain does not route to the tunnel', async () => {
    for (const host of ['alice.burrow.test.evil.com', 'aliceburrow.test', 'burrow.test']) {
      const res = await getWithHost(gw.port, host, '/hello', alice)
      expect({ host, status: res.status }).toEqual({ host, status: 404 })
      expect(res.body).not.toContain('hello from origin')
    }
  })

  test('Host routing enforces the owner just like path routing', async () => {
    const bob = await tokenFor('bob')
    expect((await getWithHost(gw.port, 'alice.burrow.test', '/hello', bob)).status).toBe(403)
    expect((await getWithHost(gw.port, 'alice.burrow.test', '/hello')).status).toBe(401)
  })

  test('no response head within UPSTREAM_HEAD_TIMEOUT gives 504 upstream_timeout, and the tunnel keeps working', async () => {
    const res = await fetch(`${gw.url}/t/alice/slow?ms=2000`, { headers: { authorization: `Bearer ${alice}` } })
    expect(res.status).toBe(504)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout')
    expect((await fetch(`${gw.url}/t/alice/hello`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(200)
  })

  test('a stream silent for longer than UPSTREAM_IDLE_TIMEOUT is aborted, while one that keeps talking runs on', async () => {
    const auth = { authorization: `Bearer ${alice}` }
    // Events every 100 ms for 1.5 s: longer than both timeouts in total, never silent for 400 ms.
    const talking = await fetch(`${gw.url}/t/alice/sse?n=15&every=100`, { headers: auth })
    expect((await talking.text()).match(/^data: /gm)).toHaveLength(15)
    // Events every 700 ms: the head (sent with the first event) is in time, the next gap is too long.
    const silent = await fetch(`${gw.url}/t/alice/sse?n=3&every=700`, { headers: auth })
    expect(silent.status).toBe(200)
    await expect(silent.text()).rejects.toThrow()
  })
})

describe('agent loss mid-response (gateway on Bun)', () => {
  afterAll(stopAll)

  test('killing the agent during a download aborts the consumer stream instead of ending it cleanly', async () => {
    const origin = await startOrigin()
    const gw = await startGateway('bun')
    const alice = await tokenFor('alice')
    const agent = await startAgent(gw.url, alice, origin.url)
    const res = await fetch(`${gw.url}/t/alice/download?size=${512 * 1024 * 1024}`, { headers: { authorization: `Bearer ${alice}` } })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    let received = 0
    const first = await reader.read()
    received += first.value?.byteLength ?? 0
    agent.proc.kill('SIGKILL')
    const drained = (async () => {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return 'ended cleanly'
        received += value.byteLength
      }
    })()
    await expect(drained).rejects.toThrow()
    expect(received).toBeLessThan(512 * 1024 * 1024)
  })
})
