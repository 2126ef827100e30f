/**
 * The agent's shutdown: on SIGTERM/SIGINT it cancels its forwards (the gateway stops routing to it
 * at once: 404, not 502), lets requests in flight finish within --grace, prints `stopped` and
 * exits 0; a second signal exits at once.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { connectionsOf, eventually, logLines } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

async function status(url: string, token: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  return `${res.status} ${await res.text()}`
}

describe('agent shutdown (gateway on Bun)', () => {
  test('SIGTERM with a slow request in flight: no new requests routed to it, the slow one finishes, `stopped`, exit 0', async () => {
    const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { LOG_LEVEL: 'info' })])
    const token = await tokenFor('sig')
    const agent = await startAgent(gw.url, token, origin.url, { env: { LOG_LEVEL: 'info' } })
    const slow = status(`${gw.url}/t/sig/slow?ms=2500`, token)
    // The slow request has reached the agent once the gateway counts it busy.
    await eventually('the slow request in flight', async () => ((await connectionsOf(gw.url, 'sig'))[0]?.busy === 1 ? true : undefined), 10_000, 10)
    agent.proc.kill('SIGTERM')
    await gw.proc.waitFor(/"event":"tunnel_cancelled"/, 5_000)
    // Routed nowhere now: the tunnel is gone (404), never a 502 from a channel the agent refuses.
    expect((await status(`${gw.url}/t/sig/hello`, token)).slice(0, 3)).toBe('404')
    expect(await slow).toBe('200 slept 2500')
    expect(await agent.proc.exited()).toBe(0)
    expect(agent.proc.output()).toContain('SIGTERM received, stopping')
    expect(agent.proc.output()).toMatch(/burrow agent: stopped \| requests served: 1/)
    // Off a terminal with JSON logs (the default), the signal is an event like the gateway's.
    expect(agent.proc.output()).toMatch(/"event":"shutdown_signal"[^\n]*"signal":"SIGTERM"[^\n]*"inFlight":\d/)
    expect(logLines(gw.proc, 'upstream_cut')).toEqual([])
  }, 60_000)

  test('a second signal exits at once (143 for SIGTERM), and the grace bounds the wait', async () => {
    const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun')])
    const token = await tokenFor('sig2')
    const twice = await startAgent(gw.url, token, origin.url)
    const cut = status(`${gw.url}/t/sig2/slow?ms=20000`, token)
    await new Promise((r) => setTimeout(r, 500))
    twice.proc.kill('SIGTERM')
    await twice.proc.waitFor(/SIGTERM received, stopping/)
    twice.proc.kill('SIGTERM')
    expect(await twice.proc.exited()).toBe(143)
    expect((await cut).slice(0, 3)).toBe('502')

    const bounded = await startAgent(gw.url, token, origin.url, { extra: ['--grace', '1'] })
    const long = status(`${gw.url}/t/sig2/slow?ms=20000`, token)
    await new Promise((r) => setTimeout(r, 500))
    bounded.proc.kill('SIGINT')
    expect(await bounded.proc.exited()).toBe(0)
    expect(bounded.proc.output()).toContain('burrow agent: stopped')
    expect((await long).slice(0, 3)).toBe('502')
  }, 60_000)
})
