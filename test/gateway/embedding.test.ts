import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Hono } from 'hono'
import { createAgent } from '../../src/agent/agent.ts'
import { createGateway } from '../../src/index.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { startOrigin, stopAll, tempDir, TEST_SECRET } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

describe('embedding: a host Hono app mounts Burrow under a prefix', () => {
  test('createGateway() touches nothing until used: no data dir is created', () => {
    const dir = join(tempDir(), 'not-yet')
    createGateway({ dataDir: dir, logger: silentLogger })
    expect(existsSync(dir)).toBe(false)
  })

  test('bad options throw a ConfigError naming each option', () => {
    expect(() => createGateway({ maxConnectionsPerUser: 0, port: -1 })).toThrow(/maxConnectionsPerUser[\s\S]*port|port[\s\S]*maxConnectionsPerUser/)
  })

  test('routes move with the prefix: /prefix/healthz, /prefix/tunnel for agents, /prefix/t/<tunnel>/ for consumers', async () => {
    const origin = await startOrigin()
    const gw = createGateway({ dataDir: tempDir(), secret: TEST_SECRET, logger: silentLogger })
    const host = new Hono()
    host.get('/', (c) => c.text('host app'))
    host.route('/burrow', gw.app)
    // `websocket` exists as soon as the gateway does (Hono's own `{ fetch, websocket }` shape).
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: host.fetch, websocket: gw.websocket as never })
    try {
      const base = `http://127.0.0.1:${server.port}`
      expect(await (await fetch(`${base}/`)).text()).toBe('host app')
      expect(await (await fetch(`${base}/burrow/healthz`)).json()).toEqual({ status: 'ok' })
      const alice = await tokenFor('alice')
      const agent = createAgent({ server: `${base}/burrow`, token: alice, to: origin.url, logger: silentLogger })
      for (let i = 0; i < 100 && agent.status().connected < 1; i++) await Bun.sleep(50)
      expect(agent.status().connected).toBe(1)
      const res = await fetch(`${base}/burrow/t/alice/hello?via=host`, { headers: { authorization: `Bearer ${alice}` } })
      expect(await res.text()).toBe('hello from origin ?via=host')
      agent.stop()
      expect((await agent.done).ok).toBe(true)
    } finally {
      await gw.stop({ graceMs: 0 })
      server.stop(true)
    }
  })
})
