/**
 * `burrow connect --connections auto`: one connection at the start, more while busy, up to the
 * user's limit the gateway tells it (Burrow-Max-Connections), never past it.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { connectionsOf, logLines } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

const BURST = 30
const SLOW_MS = 2_000

describe('an auto agent (gateway on Bun, MAX_CONNECTIONS_PER_USER=2)', () => {
  test('starts with 1 connection, grows to the limit the gateway told it under a burst, and serves it all', async () => {
    const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { MAX_CONNECTIONS_PER_USER: '2', LOG_LEVEL: 'info' })])
    const alice = await tokenFor('alice')
    const agent = await startAgent(gw.url, alice, origin.url, { connections: 'auto', env: { LOG_LEVEL: 'info' } })
    expect(agent.proc.output()).toContain('connected (1/1, up to 2 when busy)')
    expect(await connectionsOf(gw.url, 'alice')).toHaveLength(1)

    let most = 1
    let watching = true
    const watch = (async () => {
      while (watching) {
        most = Math.max(most, (await connectionsOf(gw.url, 'alice')).length)
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    const answers = await Promise.all(
      Array.from({ length: BURST }, () =>
        fetch(`${gw.url}/t/alice/slow?ms=${SLOW_MS}`, { headers: { authorization: `Bearer ${alice}` } }).then(async (r) => `${r.status} ${await r.text()}`),
      ),
    )
    watching = false
    await watch
    console.log(`[figure] auto agent, ${BURST} concurrent ${SLOW_MS} ms requests: grew to ${most} connections; statuses ${[...new Set(answers.map((a) => a.slice(0, 3)))].join(',')}`)
    expect(answers).toEqual(Array.from({ length: BURST }, () => `200 slept ${SLOW_MS}`))
    expect(most).toBe(2)
    // Told the limit, it never dialled a third connection to be refused.
    expect(logLines(gw.proc, 'tunnel_refused')).toEqual([])
    expect(logLines(gw.proc, 'agent_connected')).toHaveLength(2)
    await agent.proc.waitFor(/connected \(2\/2\)/, 5_000)
  }, 60_000)
})
