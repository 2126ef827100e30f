/**
 * Liveness on a slow link: the agent's uplink (agent → gateway) at 100 KB/s, keep-alives every
 * second on both sides, a 1 MiB download (~10 s). Bytes keep moving, so neither side may declare
 * the other dead: the consumer gets the whole body. (Issue 14: the agent's own keep-alive pings
 * waited behind its outgoing data and it gave up after 4 s.)
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { logLines } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll, type RuntimeName } from '../support/processes.ts'
import { startRelay, type Relay } from '../support/relay.ts'
import { tokenFor } from '../support/tokens.ts'
import { patternHash } from '../openssh/support.ts'

const relays: Relay[] = []
afterAll(async () => {
  await stopAll()
  await Promise.all(relays.map((r) => r.close()))
})

const SIZE = 1024 * 1024
const KEEPALIVE = { SSH_KEEPALIVE_INTERVAL: '1000' }

describe('a 1 MiB download over a 100 KB/s agent uplink, keep-alives every 1 s (gateway on Bun)', () => {
  for (const runtime of ['bun', 'node'] as RuntimeName[]) {
    test(`agent on ${runtime}: the consumer gets every byte, and no side declares the other dead`, async () => {
      const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { ...KEEPALIVE, LOG_LEVEL: 'info' })])
      const relay = await startRelay(gw.port, { agentUplinkBytesPerSecond: 100 * 1024 })
      relays.push(relay)
      const user = `slow-${runtime}`
      const token = await tokenFor(user)
      const agent = await startAgent(relay.url, token, origin.url, { runtime, env: { ...KEEPALIVE, LOG_LEVEL: 'info' } })
      const startedAt = Date.now()
      const res = await fetch(`${gw.url}/t/${user}/download?size=${SIZE}`, { headers: { authorization: `Bearer ${token}` } })
      expect(res.status).toBe(200)
      const body = new Uint8Array(await res.arrayBuffer())
      console.log(`[figure] ${runtime} agent, 1 MiB at 100 KB/s uplink: ${body.length} bytes in ${Date.now() - startedAt} ms`)
      expect(body.length).toBe(SIZE)
      expect(createHash('sha256').update(body).digest('hex')).toBe(patternHash(SIZE))
      expect(agent.proc.output()).not.toContain('no sign of life')
      expect(agent.proc.output()).not.toContain('Keepalive timeout')
      expect(logLines(gw.proc, 'connection_retired')).toEqual([])
      expect(logLines(agent.proc, 'agent_reconnecting')).toEqual([])
    }, 60_000)
  }
})
