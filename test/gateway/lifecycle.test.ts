import { afterEach, describe, expect, test } from 'bun:test'
import { createGateway } from '../../src/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { tempDir, TEST_ADMIN_TOKEN, TEST_SECRET } from '../support/processes.ts'

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

/**
 * Record every setInterval / clearInterval that Burrow's own code (src/) makes while a test runs
 * (restored after each test). Intervals of other code still running in this process (a finished
 * test's sockets, the test runner) are not the gateway's and are left out by their caller.
 */
const realSetInterval = globalThis.setInterval
const realClearInterval = globalThis.clearInterval
let intervals: { delay: number | undefined; id: unknown; cleared: boolean; caller: string }[] = []
function watchIntervals(): void {
  intervals = []
  globalThis.setInterval = ((handler: () => void, delay?: number, ...args: unknown[]) => {
    const id = realSetInterval(handler, delay, ...args)
    const caller = new Error().stack?.split('\n')[2]?.trim() ?? ''
    if (caller.includes('/src/') && !caller.includes('node_modules')) intervals.push({ delay, id, cleared: false, caller })
    return id
  }) as typeof setInterval
  globalThis.clearInterval = ((id?: Parameters<typeof clearInterval>[0]) => {
    for (const i of intervals) if (i.id === id) i.cleared = true
    return realClearInterval(id)
  }) as typeof clearInterval
}
afterEach(() => {
  globalThis.setInterval = realSetInterval
  globalThis.clearInterval = realClearInterval
})

const signalHooks = () => ['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s as NodeJS.Signals))

function gateway(extra: Parameters<typeof createGateway>[0] = {}) {
  return createGateway({ dataDir: tempDir(), secret: TEST_SECRET, adminToken: TEST_ADMIN_TOKEN, cleanupInterval: 250, logger: silentLogger, ...extra })
}

describe('gateway lifecycle in-process (embedding)', () => {
  test('an app that never calls start() serves requests with no interval and no signal hook created', async () => {
    watchIntervals()
    const hooksBefore = signalHooks()
    const gw = gateway()
    expect((await gw.app.request('/healthz')).status).toBe(200)
    expect((await gw.app.request('/readyz')).status).toBe(200)
    expect((await gw.app.request('/admin/stats', { headers: admin })).status).toBe(200)
    expect((await gw.app.request('/admin/connections', { headers: admin })).status).toBe(200)
    expect((await gw.app.request('/admin/cleanup', { method: 'POST', headers: admin })).status).toBe(200)
    expect((await gw.app.request('/metrics', { headers: admin })).status).toBe(200)
    expect((await gw.app.request('/t/alice/x')).status).toBe(401)
    expect(intervals).toEqual([])
    expect(signalHooks()).toEqual(hooksBefore)
  })

  test('start() creates the one sweep interval (CLEANUP_INTERVAL); stop() clears it and installs no signal hook', async () => {
    watchIntervals()
    const hooksBefore = signalHooks()
    const gw = gateway()
    await gw.start()
    await gw.start()
    expect(intervals.map((i) => [i.delay, i.cleared])).toEqual([[250, false]])
    await gw.stop({ graceMs: 0 })
    expect(intervals.map((i) => [i.delay, i.cleared])).toEqual([[250, true]])
    expect(signalHooks()).toEqual(hooksBefore)
  })

  test('after stop(): /healthz and /readyz answer 503, consumers get 503 draining with Connection: close, agents are refused', async () => {
    const gw = gateway()
    await gw.stop({ graceMs: 0 })
    expect(gw.draining).toBe(true)
    const health = await gw.app.request('/healthz')
    expect([health.status, await health.json()]).toEqual([503, { status: 'draining' }])
    expect((await gw.app.request('/readyz')).status).toBe(503)
    const proxied = await gw.app.request('/t/alice/hello')
    expect(proxied.status).toBe(503)
    expect(proxied.headers.get('connection')).toBe('close')
    expect(((await proxied.json()) as { error: { code: string } }).error.code).toBe('draining')
    const agent = await gw.app.request('/tunnel', { headers: { upgrade: 'websocket' } })
    expect(agent.status).toBe(503)
    expect(((await agent.json()) as { error: { code: string } }).error.code).toBe('draining')
  })

  test('admin routes and /metrics answer 401 without the admin token or with a wrong one', async () => {
    const gw = gateway()
    for (const [method, path] of [['GET', '/admin/stats'], ['GET', '/admin/connections'], ['DELETE', '/admin/connections/c1'], ['POST', '/admin/cleanup'], ['GET', '/metrics']]) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TEST_ADMIN_TOKEN }] as Record<string, string>[]) {
        const res = await gw.app.request(path!, { method, headers })
        expect([path, res.status]).toEqual([path, 401])
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
      }
    }
  })

  test('/metrics is Prometheus text; with metricsPublic it needs no token', async () => {
    const gw = gateway({ metricsPublic: true })
    const res = await gw.app.request('/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    const text = await res.text()
    for (const name of ['burrow_uptime_seconds', 'burrow_draining', 'burrow_inflight_requests', 'burrow_agent_connections', 'burrow_requests_total', 'burrow_bytes_total', 'burrow_connections_closed_total']) {
      expect(text).toContain(`# TYPE ${name} `)
    }
    expect(text).toMatch(/^burrow_draining 0$/m)
  })
})
