import { afterAll, describe, expect, test } from 'bun:test'
import { createServer, type Server } from 'node:http'
import { createAgent } from '../../src/agent/agent.ts'
import { retryAfterMs, waitAsTold } from '../../src/agent/retry-after.ts'
import { createLogger } from '../../src/log/logger.ts'
import { tokenFor } from '../support/tokens.ts'

describe('retryAfterMs() and waitAsTold()', () => {
  test('reads delay-seconds and HTTP-dates; anything else is undefined', () => {
    expect(retryAfterMs('3', 0)).toBe(3000)
    expect(retryAfterMs(' 0 ', 0)).toBe(0)
    expect(retryAfterMs(['7', '9'], 0)).toBe(7000)
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000)
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:29:00 GMT'))).toBe(0)
    expect(retryAfterMs(undefined, 0)).toBeUndefined()
    expect(retryAfterMs('soon', 0)).toBeUndefined()
    expect(retryAfterMs('-1', 0)).toBeUndefined()
  })

  test('never shorter than told, at most a second longer', () => {
    for (const told of [0, 50, 1000, 30_000]) {
      for (const r of [0, 0.5, 0.999]) {
        const ms = waitAsTold(told, () => r)
        expect(ms).toBeGreaterThanOrEqual(told)
        expect(ms).toBeLessThanOrEqual(told + 1000)
      }
    }
  })
})

describe('an agent refused with 429 and Retry-After', () => {
  let server: Server | undefined
  afterAll(() => server?.close())

  test('waits at least as long as it was told before its next attempt', async () => {
    let attempts = 0
    server = createServer((_req, res) => {
      attempts++
      res.writeHead(429, { 'retry-after': '4', 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'rate_limited', message: 'too many connection attempts from your address; retry in 4 s' } }))
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    const waits: number[] = []
    const logger = createLogger('info', (line) => {
      const l = JSON.parse(line) as { event: string; inMs?: number }
      if (l.event === 'agent_reconnecting') waits.push(l.inMs!)
    })
    const agent = createAgent({ server: `http://127.0.0.1:${port}`, token: await tokenFor('alice'), to: 'http://127.0.0.1:9', connections: 1, logger })
    for (let i = 0; i < 200 && waits.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    agent.stop()
    await agent.done
    expect(attempts).toBe(1)
    expect(waits).toHaveLength(1)
    expect(waits[0]!).toBeGreaterThanOrEqual(4000)
    expect(waits[0]!).toBeLessThanOrEqual(5000)
    expect(agent.status().lastError).toContain('answered 429')
  })
})
