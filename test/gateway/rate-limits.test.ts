import { describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/log/logger.ts'
import { createRateLimits, retryAfterSeconds } from '../../src/gateway/rate-limits.ts'

const config = {
  rateLimitUserPerSecond: 1,
  rateLimitUserBurst: 2,
  rateLimitIpPerSecond: 1,
  rateLimitIpBurst: 2,
  rateLimitAgentPerMinute: 6,
  rateLimitAgentBurst: 1,
}

function setup(overrides: Partial<typeof config> = {}) {
  const lines: string[] = []
  let t = 0
  const limits = createRateLimits({ ...config, ...overrides }, createLogger('debug', (l) => lines.push(l)), () => t)
  return { limits, lines, advance: (ms: number) => (t += ms) }
}

describe('createRateLimits()', () => {
  test('each key has its own bucket: one IP running dry does not limit another', () => {
    const { limits } = setup()
    expect([limits.consumerIp('10.0.0.1'), limits.consumerIp('10.0.0.1'), limits.consumerIp('10.0.0.1')].map((v) => v.ok)).toEqual([true, true, false])
    expect(limits.consumerIp('10.0.0.2').ok).toBe(true)
  })

  test('a refusal names its scope and when to retry; the bucket refills with time', () => {
    const { limits, advance } = setup()
    limits.consumerUser('alice')
    limits.consumerUser('alice')
    expect(limits.consumerUser('alice')).toEqual({ ok: false, scope: 'consumer_user', retryAfterMs: 1000 })
    advance(1000)
    expect(limits.consumerUser('alice').ok).toBe(true)
  })

  test('an agent attempt admitted to the pool gives its token back; one that was not keeps it spent', () => {
    const { limits } = setup({ rateLimitAgentBurst: 2 })
    // Two agents behind one address, both admitted: their tokens come back, a third gets in at once.
    expect([limits.agentIp('10.0.0.1').ok, limits.agentIp('10.0.0.1').ok]).toEqual([true, true])
    limits.agentAdmitted('10.0.0.1')
    limits.agentAdmitted('10.0.0.1')
    expect(limits.agentIp('10.0.0.1').ok).toBe(true)
    expect(limits.agentIp('10.0.0.1').ok).toBe(true)
    // Those two never made it into the pool (a bad token, a loop): the address is now limited.
    expect(limits.agentIp('10.0.0.1').ok).toBe(false)
    // A refund never lifts a bucket past its burst, and another address is untouched.
    limits.agentAdmitted('10.0.0.2')
    expect([limits.agentIp('10.0.0.2').ok, limits.agentIp('10.0.0.2').ok, limits.agentIp('10.0.0.2').ok]).toEqual([true, true, false])
  })

  test('the agent limit is per minute: 6/min is one attempt every 10 s', () => {
    const { limits, advance } = setup()
    expect(limits.agentIp('10.0.0.1').ok).toBe(true)
    expect(limits.agentIp('10.0.0.1')).toEqual({ ok: false, scope: 'agent_ip', retryAfterMs: 10_000 })
    advance(10_000)
    expect(limits.agentIp('10.0.0.1').ok).toBe(true)
  })

  test('an IPv6 client is limited by its /64, IPv4-mapped addresses as IPv4', () => {
    const { limits } = setup()
    limits.consumerIp('2001:db8:1:2::1')
    limits.consumerIp('2001:db8:1:2::2')
    expect(limits.consumerIp('2001:db8:1:2::3').ok).toBe(false)
    limits.consumerIp('192.0.2.1')
    limits.consumerIp('::ffff:192.0.2.1')
    expect(limits.consumerIp('192.0.2.1').ok).toBe(false)
  })

  test('a rate of 0 turns a limit off; an unknown address is not limited by address', () => {
    const { limits } = setup({ rateLimitIpPerSecond: 0 })
    for (let i = 0; i < 100; i++) expect(limits.consumerIp('10.0.0.1').ok).toBe(true)
    for (let i = 0; i < 100; i++) expect(limits.agentIp(undefined).ok).toBe(true)
  })

  test('only the first refusal of a run is logged, and the log names no secret', () => {
    const { limits, lines, advance } = setup()
    for (let i = 0; i < 50; i++) limits.consumerIp('10.0.0.9')
    expect(lines.length).toBe(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', event: 'rate_limited', scope: 'consumer_ip', key: '10.0.0.9' })
    advance(5000)
    limits.consumerIp('10.0.0.9')
    limits.consumerIp('10.0.0.9')
    limits.consumerIp('10.0.0.9')
    expect(lines.length).toBe(2)
  })

  test('retryAfterSeconds() rounds up to whole seconds, at least 1', () => {
    expect([0, 1, 999, 1000, 1001, 59_999].map(retryAfterSeconds)).toEqual(['1', '1', '1', '1', '2', '60'])
  })
})
