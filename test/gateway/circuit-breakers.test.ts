import { describe, expect, test } from 'bun:test'
import { CircuitBreakers } from '../../src/gateway/circuit-breakers.ts'
import { createLogger } from '../../src/log/logger.ts'

const COOLDOWN_MS = 80
const fail = { upstreamFailed: true, reason: 'upstream_unreachable' } as const
const ok = { upstreamFailed: false } as const

function breakers(failures = 3) {
  const lines: Record<string, unknown>[] = []
  const b = new CircuitBreakers(failures, COOLDOWN_MS, createLogger('debug', (l) => lines.push(JSON.parse(l))))
  return { b, lines }
}

/** One attempt to `tunnel` whose outcome is `verdict`; returns whether it ran. */
async function attempt(b: CircuitBreakers, tunnel: string, verdict: typeof fail | typeof ok): Promise<boolean> {
  let ran = false
  await b.run(tunnel, async () => ((ran = true), verdict), (v) => v)
  return ran
}

describe('CircuitBreakers', () => {
  test('opens after N upstream failures in a row, answers at once with Retry-After, then one trial closes it', async () => {
    const { b, lines } = breakers()
    for (let i = 0; i < 2; i++) expect(await attempt(b, 'alice', fail)).toBe(true)
    expect(b.admit('alice')).toEqual({ ok: true })
    expect(b.view('alice')).toMatchObject({ state: 'closed', failures: 2 })
    expect(await attempt(b, 'alice', fail)).toBe(true)
    const refused = b.admit('alice')
    expect(refused).toMatchObject({ ok: false, retryAfterS: 1 })
    expect(b.view('alice')).toMatchObject({ state: 'open', reason: 'upstream_unreachable' })
    expect(b.view('alice').retryAt).not.toBeNull()
    // Other tunnels never share it.
    expect(b.admit('bob')).toEqual({ ok: true })
    expect(await attempt(b, 'alice', ok)).toBe(false)
    await Bun.sleep(COOLDOWN_MS + 20)
    expect(b.admit('alice')).toEqual({ ok: true })
    expect(await attempt(b, 'alice', ok)).toBe(true)
    expect(b.view('alice')).toMatchObject({ state: 'closed', failures: 0 })
    expect(b.transitions).toEqual({ open: 1, 'half-open': 1, closed: 1 })
    expect(lines.map((l) => l.event)).toEqual(['circuit_opened', 'circuit_half_open', 'circuit_closed'])
    expect(lines[0]).toMatchObject({ level: 'warn', user: 'alice', failures: 3, reason: 'upstream_unreachable' })
  })

  test('a success in between resets the count; a failed trial opens it again; troubled() lists what is not clean', async () => {
    const { b } = breakers()
    await attempt(b, 'alice', fail)
    await attempt(b, 'alice', fail)
    await attempt(b, 'alice', ok)
    await attempt(b, 'alice', fail)
    expect(b.view('alice')).toMatchObject({ state: 'closed', failures: 1 })
    expect(b.troubled().map((v) => v.tunnel)).toEqual(['alice'])
    await attempt(b, 'alice', fail)
    await attempt(b, 'alice', fail)
    expect(b.view('alice').state).toBe('open')
    await Bun.sleep(COOLDOWN_MS + 20)
    // The trial runs; while it runs others are told to come back.
    let release!: () => void
    const trial = b.run('alice', () => new Promise<typeof fail>((r) => (release = () => r(fail))), (v) => v)
    expect(b.view('alice').state).toBe('half-open')
    expect(b.admit('alice')).toMatchObject({ ok: false, retryAfterS: 1 })
    release()
    await trial
    expect(b.view('alice').state).toBe('open')
    expect(b.admit('alice').ok).toBe(false)
  })

  test('requests that began while closed and fail after it opened count once: the breaker opens once, each gets its own result', async () => {
    const { b } = breakers(2)
    const gates: (() => void)[] = []
    const slow = () => b.run('alice', () => new Promise<typeof fail>((r) => gates.push(() => r(fail))), (v) => v)
    const runs = [slow(), slow(), slow()]
    await Bun.sleep(0)
    for (const open of gates) open()
    expect(await Promise.all(runs)).toEqual([fail, fail, fail])
    expect(b.view('alice')).toMatchObject({ state: 'open' })
    expect(b.transitions.open).toBe(1)
    expect(await attempt(b, 'alice', ok)).toBe(false)
  })

  test('failures 0: no breaker at all', async () => {
    const { b } = breakers(0)
    for (let i = 0; i < 10; i++) expect(await attempt(b, 'alice', fail)).toBe(true)
    expect([b.admit('alice').ok, b.enabled, b.troubled()]).toEqual([true, false, []])
  })
})
