/**
 * Graceful drain of a real gateway process on Bun, Deno and Node: SIGTERM with requests in
 * flight, requests cut at the deadline, a second signal, agents refused and reconnecting.
 * Exit times are printed (`[figure] …`) for the record, never asserted.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { admin, eventually, logLines, waitForTunnelsUp } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll, type Origin, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

// Bun applies the preload's setDefaultTimeout to the first test file only: long tests say their own.
const SLOW_TEST_MS = 60_000

afterAll(stopAll)

let origin: Origin | undefined
const sharedOrigin = async () => (origin ??= await startOrigin())

/** One HTTP/1.1 request on a fresh socket, to see the head exactly as the gateway wrote it. */
function rawGet(port: number, path: string, authorization: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no complete answer to ${path}: ${data}`))), 5_000)
    const done = () => {
      const end = data.indexOf('\r\n\r\n')
      if (end < 0) return false
      const [statusLine, ...lines] = data.slice(0, end).split('\r\n')
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
      const body = data.slice(end + 4)
      if (headers['content-length'] !== undefined && Buffer.byteLength(body) < Number(headers['content-length'])) return false
      clearTimeout(timer)
      socket.destroy()
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body })
      return true
    }
    socket.on('data', (d) => {
      data += d.toString()
      done()
    })
    socket.on('error', reject)
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n\r\n`)
  })
}

async function inflight(gatewayUrl: string): Promise<number> {
  return ((await (await admin(gatewayUrl, '/admin/stats')).json()) as { inflight: number }).inflight
}

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`graceful drain, gateway on ${runtime}`, () => {
    test('SIGTERM during 100 in-flight requests: all complete, new work gets 503 draining, agents reconnect, exit 0', async () => {
      const grace = 10_000
      const gw = await startGateway(runtime, { SHUTDOWN_GRACE_PERIOD: String(grace), SSH_MAX_CHANNELS: '50', LOG_LEVEL: 'info' })
      const alice = await tokenFor('alice')
      const auth = `Bearer ${alice}`
      const agent = await startAgent(gw.url, alice, (await sharedOrigin()).url, { connections: 3, env: { LOG_LEVEL: 'info' } })

      // 100 requests of 4.0–4.1 s each, every one with its own body. Long enough that a newcomer agent,
      // started after SIGTERM, dials while they still run even on a loaded machine (at 1.2 s a slow
      // agent start once found the port already closed).
      const requests = Array.from({ length: 100 }, (_, i) =>
        fetch(`${gw.url}/t/alice/slow?ms=${4000 + i}`, { headers: { authorization: auth } }).then(async (r) => [r.status, await r.text()] as const),
      )
      await eventually('100 requests in flight', async () => ((await inflight(gw.url)) === 100 ? true : undefined), 10_000, 10)
      const signalledAt = Date.now()
      gw.proc.kill('SIGTERM')
      await gw.proc.waitFor(/SIGTERM received, draining/)

      const health = await fetch(`${gw.url}/healthz`)
      expect([health.status, await health.json()]).toEqual([503, { status: 'draining' }])
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503)
      const late = await rawGet(gw.port, '/t/alice/hello', auth)
      expect(late.status).toBe(503)
      expect(late.headers.connection).toBe('close')
      expect(JSON.parse(late.body).error.code).toBe('draining')
      const newcomer = await startAgent(gw.url, alice, (await sharedOrigin()).url, { wait: false })
      await newcomer.proc.waitFor(/the gateway answered 503: the gateway is shutting down/)
      newcomer.proc.kill()

      const results = await Promise.all(requests)
      expect(results).toEqual(Array.from({ length: 100 }, (_, i) => [200, `slept ${4000 + i}`] as const))
      expect(await gw.proc.exited()).toBe(0)
      console.log(`[figure] ${runtime}: SIGTERM with 100 × ~4.05 s in flight → exit 0 after ${Date.now() - signalledAt} ms (grace ${grace} ms)`)
      expect(logLines(gw.proc, 'drain_deadline')).toEqual([])

      // The agent took "server shutting down" as its cue to reconnect: a new instance on the same port gets it back.
      await agent.proc.waitFor(/server shutting down/)
      const next = await startGateway(runtime, { PORT: String(gw.port) })
      expect(next.port).toBe(gw.port)
      await waitForTunnelsUp(agent.proc, 6, 30_000)
      const again = await fetch(`${next.url}/t/alice/hello`, { headers: { authorization: auth } })
      expect(await again.text()).toBe('hello from origin ')
      next.proc.kill('SIGKILL')
    }, SLOW_TEST_MS)

    test('requests longer than the grace period are cut at the deadline and the process still exits 0', async () => {
      const grace = 500
      const gw = await startGateway(runtime, { SHUTDOWN_GRACE_PERIOD: String(grace), LOG_LEVEL: 'info' })
      const alice = await tokenFor('alice')
      await startAgent(gw.url, alice, (await sharedOrigin()).url)
      const requests = Array.from({ length: 5 }, () =>
        fetch(`${gw.url}/t/alice/slow?ms=20000`, { headers: { authorization: `Bearer ${alice}` } }).then(
          async (r) => `${r.status} ${await r.text()}`,
          (err: Error) => `failed: ${err.message}`,
        ),
      )
      await eventually('5 requests in flight', async () => ((await inflight(gw.url)) === 5 ? true : undefined), 10_000, 10)
      const signalledAt = Date.now()
      gw.proc.kill('SIGTERM')
      expect(await gw.proc.exited()).toBe(0)
      console.log(`[figure] ${runtime}: SIGTERM with 5 × 20 s in flight → exit 0 after ${Date.now() - signalledAt} ms (grace ${grace} ms)`)
      for (const r of await Promise.all(requests)) expect(r).not.toStartWith('200')
      expect(logLines(gw.proc, 'drain_deadline')).toEqual([expect.objectContaining({ cut: 5, graceMs: grace })])
    }, SLOW_TEST_MS)

    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      test(`a second ${signal} during the drain exits at once with ${code}`, async () => {
        const gw = await startGateway(runtime, { SHUTDOWN_GRACE_PERIOD: '30000' })
        const alice = await tokenFor('alice')
        await startAgent(gw.url, alice, (await sharedOrigin()).url)
        const held = fetch(`${gw.url}/t/alice/slow?ms=20000`, { headers: { authorization: `Bearer ${alice}` } }).catch(() => undefined)
        await eventually('a request in flight', async () => ((await inflight(gw.url)) === 1 ? true : undefined), 10_000, 10)
        gw.proc.kill(signal)
        await gw.proc.waitFor(new RegExp(`${signal} received, draining`))
        const secondAt = Date.now()
        gw.proc.kill(signal)
        expect(await gw.proc.exited()).toBe(code)
        console.log(`[figure] ${runtime}: second ${signal} → exit ${code} after ${Date.now() - secondAt} ms`)
        await held
      }, SLOW_TEST_MS)
    }
  })
}
