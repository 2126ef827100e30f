/**
 * TRUSTED_PROXIES: behind a trusted proxy, per-IP budgets count the client named in
 * X-Forwarded-For (consumers and agents alike); from anyone else the header is ignored, so a client
 * cannot pick a fresh budget by inventing addresses.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { startGateway, startOrigin, stopAll, startAgent } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

const LIMITS = { RATE_LIMIT_IP_PER_SECOND: '1', RATE_LIMIT_IP_BURST: '2', RATE_LIMIT_AGENT_PER_MINUTE: '1', RATE_LIMIT_AGENT_BURST: '2' }

/** Send until refused with 429 (a burst of 2 is spent within a few requests); the statuses seen. */
async function untilRefused(url: string, headers: Record<string, string>): Promise<number[]> {
  const seen: number[] = []
  for (let i = 0; i < 20 && seen.at(-1) !== 429; i++) seen.push((await fetch(url, { headers })).status)
  return seen
}

describe.each([
  ['trusted (TRUSTED_PROXIES=127.0.0.1)', { TRUSTED_PROXIES: '127.0.0.1,::1' }, true],
  ['not trusted (unset)', {}, false],
] as const)('the test client as a proxy, %s', (_what, env, trusted) => {
  test('consumer budget: one client exhausted, another client behind the same proxy', async () => {
    const origin = await startOrigin()
    const gw = await startGateway('bun', { ...LIMITS, ...env })
    const alice = await tokenFor('alice')
    await startAgent(gw.url, alice, origin.url)
    const url = `${gw.url}/t/alice/hello`
    const auth = { authorization: `Bearer ${alice}` }
    const seen = await untilRefused(url, { ...auth, 'x-forwarded-for': '203.0.113.7' })
    expect(seen.slice(0, 2)).toEqual([200, 200])
    expect(seen.at(-1)).toBe(429)
    // The gateway names the budget it refused from: the client behind the proxy, or the proxy.
    await gw.proc.waitFor(/"event":"rate_limited","scope":"consumer_ip","key":"([^"]+)"/)
    expect(gw.proc.output()).toContain(`"scope":"consumer_ip","key":"${trusted ? '203.0.113.7' : '127.0.0.1'}"`)
    // Another client behind the trusted proxy has a budget of its own.
    if (trusted) expect((await fetch(url, { headers: { ...auth, 'x-forwarded-for': '203.0.113.8' } })).status).toBe(200)
  }, 30_000)

  test('agent-attempt budget: the same, on /tunnel (bad tokens cost attempts too)', async () => {
    const gw = await startGateway('bun', { ...LIMITS, ...env })
    const url = `${gw.url}/tunnel`
    const bad = { authorization: 'Bearer not-a-token', upgrade: 'websocket' }
    const seen = await untilRefused(url, { ...bad, 'x-forwarded-for': '198.51.100.1' })
    expect(seen.slice(0, 2)).toEqual([401, 401])
    expect(seen.at(-1)).toBe(429)
    await gw.proc.waitFor(/"event":"rate_limited","scope":"agent_ip"/)
    expect(gw.proc.output()).toContain(`"scope":"agent_ip","key":"${trusted ? '198.51.100.1' : '127.0.0.1'}"`)
    if (trusted) expect((await fetch(url, { headers: { ...bad, 'x-forwarded-for': '198.51.100.2' } })).status).toBe(401)
  }, 30_000)
})
