/**
 * Sixty agents behind one address (here 127.0.0.1: a NAT, an office) and a gateway restart: the
 * agent-attempt limit (RATE_LIMIT_AGENT_*, defaults) must let them all back without a storm of
 * refused attempts, and the agents must wait as the 429's Retry-After tells them.
 * The agents run in this process (createAgent), one user each, so the machine carries 60 SSH
 * clients, not 60 runtimes.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { createAgent, type Agent } from '../../src/agent/agent.ts'
import { createLogger } from '../../src/log/logger.ts'
import { eventually } from '../support/admin.ts'
import { startGateway, startOrigin, stopAll } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

const AGENTS = 60
const agents: Agent[] = []
afterAll(async () => {
  for (const a of agents) a.stop()
  await stopAll()
})

describe('60 agents from one address, gateway restarted (Bun, default rate limits)', () => {
  test('all come back, each refused at most about once, waiting as Retry-After says', async () => {
    const origin = await startOrigin()
    let gw = await startGateway('bun')
    const events: { at: number; event: string; reason?: string; inMs?: number }[] = []
    const logger = createLogger('info', (line) => {
      const l = JSON.parse(line) as { event: string; reason?: string; inMs?: number }
      if (l.event === 'agent_reconnecting') events.push({ at: Date.now(), event: l.event, reason: l.reason, inMs: l.inMs })
    })
    const tokens = await Promise.all(Array.from({ length: AGENTS }, (_, i) => tokenFor(`office-${i}`)))
    for (const token of tokens) agents.push(createAgent({ server: gw.url, token, to: origin.url, connections: 1, logger }))
    const allUp = () => agents.every((a) => a.status().connected === 1) || undefined
    await eventually('all 60 agents up at the start', allUp, 120_000, 50)

    gw.proc.kill('SIGKILL')
    await gw.proc.exited()
    await eventually('every agent to notice', () => agents.every((a) => a.status().connected === 0) || undefined, 30_000, 20)
    events.length = 0
    gw = await startGateway('bun', { PORT: String(gw.port), BURROW_DATA_DIR: gw.dataDir })
    const restartedAt = Date.now()
    await eventually('all 60 agents back after the restart', allUp, 120_000, 20)
    const recoveryMs = Date.now() - restartedAt

    const refused = events.filter((e) => /answered 429/.test(e.reason ?? ''))
    console.log(`[figure] 60 agents from one address back ${recoveryMs} ms after the gateway restarted; ${refused.length} attempts refused with 429`)
    // Each agent that found the burst spent is refused about once, then waits as told: no storm.
    expect(refused.length).toBeLessThanOrEqual(AGENTS)
    // Waiting as told: the pause after a 429 is never shorter than its Retry-After (1 s here).
    for (const e of refused) expect(e.inMs!).toBeGreaterThanOrEqual(1000)
  }, 300_000)
})
