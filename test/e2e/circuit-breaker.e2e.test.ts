/**
 * The circuit breaker per tunnel with real processes, the gateway on Bun, Deno and Node: a tunnel
 * whose local service is down opens after CIRCUIT_BREAKER_FAILURES upstream failures, then answers
 * 503 circuit_open with Retry-After without opening an SSH channel (the agent dials nothing), and
 * once the service is back and the cool-down is over, one trial request closes it. Another tunnel
 * is never affected. A malformed answer is the service's answer (a 502 `upstream_unreachable` to the
 * consumer, as the README's error table says), not a failure to reach it: it never opens the breaker.
 * Nor does an agent going away with requests in flight: those fail ("the agent disconnected"), and
 * the restarted agent serves at once.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { admin, countIn, eventually } from '../support/admin.ts'
import { runtimeCommand, startAgent, startGateway, startOrigin, startProcess, stopAll, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

const SLOW_TEST_MS = 90_000
const FAILURES = 3
const COOLDOWN_MS = 1500

afterAll(stopAll)

/** A loopback port nobody listens on (taken and given back). */
async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`circuit breaker, gateway on ${runtime}`, () => {
    test('opens after 3 failures, answers circuit_open without a channel, closes after the cool-down once the service is back', async () => {
      const port = await freePort()
      const [gw, origin] = await Promise.all([startGateway(runtime, { CIRCUIT_BREAKER_FAILURES: String(FAILURES), CIRCUIT_BREAKER_COOLDOWN: String(COOLDOWN_MS) }), startOrigin()])
      const [alice, bob] = await Promise.all([tokenFor('alice'), tokenFor('bob')])
      const down = await startAgent(gw.url, alice, `http://127.0.0.1:${port}`)
      await startAgent(gw.url, bob, origin.url)
      const ask = (token: string, user: string) => fetch(`${gw.url}/t/${user}/hello`, { headers: { authorization: `Bearer ${token}` } })

      for (let i = 0; i < FAILURES; i++) {
        const res = await ask(alice, 'alice')
        expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([502, 'upstream_unreachable'])
      }
      const dialled = await eventually('the agent to log its failed dials', () => (countIn(down.proc, /local_target_unreachable/g) >= FAILURES ? countIn(down.proc, /local_target_unreachable/g) : undefined))
      expect(dialled).toBe(FAILURES)
      const open = await ask(alice, 'alice')
      expect(open.status).toBe(503)
      expect(Number(open.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(open.headers.get('x-request-id')).not.toBeNull()
      expect(((await open.json()) as { error: { code: string } }).error.code).toBe('circuit_open')
      // Bob's tunnel is untouched.
      expect((await ask(bob, 'bob')).status).toBe(200)
      const stats = (await (await admin(gw.url, '/admin/stats')).json()) as { breakers: { tunnel: string; state: string }[] }
      expect(stats.breakers).toEqual([expect.objectContaining({ tunnel: 'alice', state: 'open', failures: FAILURES, reason: 'upstream_unreachable' })])
      const conns = (await (await admin(gw.url, '/admin/connections')).json()) as { connections: { user: string; breaker: string }[] }
      expect(conns.connections.find((c) => c.user === 'alice')?.breaker).toBe('open')
      const metrics = await (await admin(gw.url, '/metrics')).text()
      expect(metrics).toMatch(/^burrow_circuit_breaker_transitions_total\{state="open"\} 1$/m)
      expect(metrics).toMatch(/^burrow_circuit_breakers_open 1$/m)

      // The service comes back on its port; during the cool-down nothing reaches it.
      const service: Server = createServer((_req, res) => res.end('back'))
      await new Promise<void>((r) => service.listen(port, '127.0.0.1', r))
      try {
        expect((await ask(alice, 'alice')).status).toBe(503)
        expect(countIn(down.proc, /local_target_unreachable/g)).toBe(FAILURES)
        const back = await eventually(
          'the trial request after the cool-down',
          async () => {
            const res = await ask(alice, 'alice')
            return res.status === 200 ? res : (await res.text(), undefined)
          },
          COOLDOWN_MS * 10,
          200,
        )
        expect(await back.text()).toBe('back')
        const after = (await (await admin(gw.url, '/admin/stats')).json()) as { breakers: unknown[] }
        expect(after.breakers).toEqual([])
        expect((await ask(alice, 'alice')).status).toBe(200)
      } finally {
        service.close()
      }
    }, SLOW_TEST_MS)
  })
}

describe('circuit breaker and malformed answers, gateway on bun', () => {
  test('a service answering malformed responses many times in a row keeps its breaker closed; failing to answer then opens it', async () => {
    const [cmd, args] = runtimeCommand('bun', 'test/fixtures/probe-origin.ts', ['malformed'])
    const probe = startProcess(cmd, args)
    const port = Number((await probe.waitFor(/listening (\d+)/))[1])
    const gw = await startGateway('bun', { CIRCUIT_BREAKER_FAILURES: String(FAILURES), CIRCUIT_BREAKER_COOLDOWN: '60000' })
    const alice = await tokenFor('alice')
    await startAgent(gw.url, alice, `http://127.0.0.1:${port}`)
    const ask = async (path: string) => {
      const res = await fetch(`${gw.url}/t/alice${path}`, { headers: { authorization: `Bearer ${alice}` } })
      return [res.status, ((await res.json()) as { error: { code: string } }).error.code]
    }
    // Four malformed answers in a row (the threshold is 3): each a 502, never circuit_open.
    for (const kind of ['garbage', 'bad-status', 'status-999', 'nul-in-value']) expect(await ask(`/raw/${kind}`)).toEqual([502, 'upstream_unreachable'])
    const stats = (await (await admin(gw.url, '/admin/stats')).json()) as { breakers: unknown[] }
    expect(stats.breakers).toEqual([])
    // The service gone: FAILURES failures to reach it open the breaker as before.
    probe.kill('SIGKILL')
    await probe.exited()
    for (let i = 0; i < FAILURES; i++) expect(await ask('/hello')).toEqual([502, 'upstream_unreachable'])
    expect(await ask('/hello')).toEqual([503, 'circuit_open'])
  }, SLOW_TEST_MS)

  test('an agent killed with more requests in flight than the threshold leaves the breaker closed: its restart serves at once', async () => {
    let held = 0
    const service: Server = createServer((req, res) => {
      if (req.url === '/hang') held++ // never answered: cut when the agent goes
      else res.end('fine')
    })
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', r))
    const target = `http://127.0.0.1:${(service.address() as AddressInfo).port}`
    try {
      const gw = await startGateway('bun', { CIRCUIT_BREAKER_FAILURES: String(FAILURES), CIRCUIT_BREAKER_COOLDOWN: '60000' })
      const alice = await tokenFor('alice')
      const first = await startAgent(gw.url, alice, target)
      const ask = (path: string) => fetch(`${gw.url}/t/alice${path}`, { headers: { authorization: `Bearer ${alice}` } })
      const inFlight = Array.from({ length: FAILURES + 1 }, () => ask('/hang'))
      await eventually('every request to reach the service', () => (held === FAILURES + 1 ? true : undefined))
      first.proc.kill('SIGKILL')
      for (const res of await Promise.all(inFlight)) {
        const body = (await res.json()) as { error: { code: string; message: string } }
        expect([res.status, body.error.code]).toEqual([502, 'upstream_unreachable'])
        expect(body.error.message).toMatch(/agent/)
      }
      const stats = (await (await admin(gw.url, '/admin/stats')).json()) as { breakers: unknown[] }
      expect(stats.breakers).toEqual([])
      await startAgent(gw.url, alice, target)
      const res = await ask('/hello')
      expect([res.status, await res.text()]).toEqual([200, 'fine'])
    } finally {
      service.closeAllConnections()
      await new Promise<void>((r) => service.close(() => r()))
    }
  }, SLOW_TEST_MS)
})
