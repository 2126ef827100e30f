/**
 * The gateway and the agent agree on idle connections: the gateway retires a surplus idle one
 * (MAX_IDLE_TIME) with the reason `idle surplus connection`, and the agent does not redial it
 * until its other connection gets busy (issue 14: it used to come straight back, every period).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { connectionsOf, eventually, logLines } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

// Idle periods watched after the first retirement: the churn made one retirement per period.
const PERIODS = 5
const IDLE_MS = 1_000

describe('idle surplus connections (gateway on Bun, MAX_IDLE_TIME 1 s)', () => {
  test('a retired idle connection rests on the agent until load needs it, then comes back', async () => {
    const [origin, gw] = await Promise.all([
      startOrigin(),
      startGateway('bun', { MAX_IDLE_TIME: String(IDLE_MS), CLEANUP_INTERVAL: '100', LOG_LEVEL: 'info' }),
    ])
    const alice = await tokenFor('alice')
    const agent = await startAgent(gw.url, alice, origin.url, { connections: 2, env: { LOG_LEVEL: 'info' } })
    await eventually('one connection retired as idle', async () => ((await connectionsOf(gw.url, 'alice')).length === 1 ? true : undefined), 10_000, 50)
    await new Promise((r) => setTimeout(r, PERIODS * IDLE_MS))

    const retired = logLines(gw.proc, 'connection_retired')
    expect(retired.map((l) => l.reason)).toEqual(['idle'])
    expect(logLines(gw.proc, 'agent_connected')).toHaveLength(2)
    expect(await connectionsOf(gw.url, 'alice')).toHaveLength(1)
    expect(agent.proc.output()).toContain('connected (1/1, up to 2 when busy)')

    // Load: 12 slow requests at once fill the remaining connection's 10 channels past 80 %.
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        fetch(`${gw.url}/t/alice/slow?ms=1500`, { headers: { authorization: `Bearer ${alice}` } }).then(async (r) => `${r.status} ${await r.text()}`),
      ),
    )
    expect(answers).toEqual(Array.from({ length: 12 }, () => '200 slept 1500'))
    expect(logLines(gw.proc, 'agent_connected')).toHaveLength(3)
    await agent.proc.waitFor(/connected \(2\/2\)/, 5_000)
  }, 60_000)
})
