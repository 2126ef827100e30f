import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { stopAll, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { expectHonestTunnel, jsonOf, rawHttp, RUNTIMES, seenBy, sshPortOf, startStage, type Stage } from './support/harness.ts'
import { rawWebSocket } from './support/raw-ws.ts'

afterAll(stopAll)

// Small limits, so a few requests show them. Every loopback address is a different client IP on
// Linux (127.0.0.0/8), so one test process can be many clients; the stage itself uses 127.0.0.1.
const ENV = {
  RATE_LIMIT_IP_PER_SECOND: '1',
  RATE_LIMIT_IP_BURST: '5',
  RATE_LIMIT_USER_PER_SECOND: '1',
  RATE_LIMIT_USER_BURST: '8',
  RATE_LIMIT_AGENT_PER_MINUTE: '1',
  RATE_LIMIT_AGENT_BURST: '4',
}

const stages = {} as Record<RuntimeName, Stage>
beforeAll(async () => {
  const all = await Promise.all(RUNTIMES.map((r) => startStage(r, { ...ENV, SSH_PORT: '0' })))
  RUNTIMES.forEach((r, i) => (stages[r] = all[i]!))
})

function get(stage: Stage, target: string, token: string | undefined, from: string) {
  const auth = token === undefined ? '' : `Authorization: Bearer ${token}\r\n`
  return rawHttp(stage.gw.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${stage.gw.port}\r\n${auth}Connection: close\r\n\r\n`, { localAddress: from })
}

/** 429 with the contract's body and a Retry-After of whole seconds. */
function expectRateLimited(reply: Awaited<ReturnType<typeof rawHttp>>, message: RegExp): void {
  expect(reply.status).toBe(429)
  expect(jsonOf(reply)?.error?.code).toBe('rate_limited')
  expect(jsonOf(reply)?.error?.message).toMatch(message)
  expect(Number(/^retry-after: (\d+)\r?$/im.exec(reply.text)?.[1])).toBeGreaterThanOrEqual(1)
}

for (const runtime of RUNTIMES) {
  describe(`rate limits (gateway on ${runtime})`, () => {
    let stage: Stage
    beforeAll(() => {
      stage = stages[runtime]
    })

    test('a consumer IP past its burst gets 429 rate_limited with Retry-After, before its token is looked at; other IPs are served', async () => {
      await seenBy(stage.originA)
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await get(stage, '/t/alice/x', stage.alice, '127.0.0.2')).status)
      expect(statuses).toEqual([200, 200, 200, 200, 200])
      expectRateLimited(await get(stage, '/t/alice/x', stage.alice, '127.0.0.2'), /too many requests from your address/)
      // No token, or a bad one: still 429 from this address, not 401 (no signature check spent).
      expect((await get(stage, '/t/alice/x', undefined, '127.0.0.2')).status).toBe(429)
      expect((await get(stage, '/t/alice/x', 'not-a-token', '127.0.0.2')).status).toBe(429)
      expect((await get(stage, '/t/alice/x', stage.alice, '127.0.0.3')).status).toBe(200)
      expect((await seenBy(stage.originA)).requests).toHaveLength(6)
      await expectHonestTunnel(stage, expect)
    })

    test("a tunnel owner's budget is shared by all client IPs, and strangers cannot spend it", async () => {
      const mallory = await tokenFor('mallory')
      // 20 strangers from 20 addresses: refused as strangers (403), alice's budget untouched.
      for (let i = 0; i < 20; i++) expect((await get(stage, '/t/alice/x', mallory, `127.0.1.${i + 1}`)).status).toBe(403)
      await seenBy(stage.originA)
      // Alice's own requests, one per fresh address: the owner's bucket (burst 8) runs dry.
      const replies = []
      for (let i = 0; i < 12; i++) replies.push(await get(stage, '/t/alice/x', stage.alice, `127.0.2.${i + 1}`))
      const served = replies.filter((r) => r.status === 200).length
      const limited = replies.filter((r) => r.status === 429)
      // The first test spent some of alice's 8 a moment ago; the bucket refills 1 per second.
      expect(served).toBeLessThanOrEqual(8)
      expect(limited.length).toBeGreaterThanOrEqual(2)
      for (const r of limited) expectRateLimited(r, /too many requests to tunnel alice/)
      expect((await seenBy(stage.originA)).requests).toHaveLength(served)
      // Bob's tunnel has its own budget.
      await expectHonestTunnel(stage, expect)
    })

    test('agent connection attempts past the burst get 429 on /tunnel (before the token) and are cut on SSH_PORT; other IPs still connect', async () => {
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) {
        const ws = await rawWebSocket(stage.gw.port, '/tunnel', { authorization: 'Bearer guessed-token' }, undefined, '127.0.0.50')
        statuses.push(ws.status)
        ws.socket.destroy()
      }
      expect(statuses).toEqual([401, 401, 401, 401])
      const refused = await rawWebSocket(stage.gw.port, '/tunnel', { authorization: `Bearer ${stage.alice}` }, undefined, '127.0.0.50')
      expect(refused.status).toBe(429)
      // Every runtime sends a refused upgrade whole, Retry-After included (Node's once lacked it).
      expect(refused.response).toMatch(/^retry-after: 60\r?$/im)
      refused.socket.destroy()
      // Another address connects (a valid token: the upgrade is accepted).
      const other = await rawWebSocket(stage.gw.port, '/tunnel', { authorization: `Bearer ${await tokenFor('carol')}` }, undefined, '127.0.0.51')
      expect(other.status).toBe(101)
      other.socket.destroy()

      // SSH_PORT: the same per-IP bucket counts accepted TCP connections; past it, cut before SSH.
      const sshPort = await sshPortOf(stage.gw)
      const identSeen = async (from: string) =>
        new Promise<boolean>((resolve) => {
          const s = connect({ port: sshPort, host: '127.0.0.1', localAddress: from })
          s.on('error', () => {})
          s.once('data', () => (s.destroy(), resolve(true)))
          s.once('close', () => resolve(false))
        })
      const seen: boolean[] = []
      for (let i = 0; i < 5; i++) seen.push(await identSeen('127.0.0.52'))
      expect(seen).toEqual([true, true, true, true, false])
      expect(await identSeen('127.0.0.53')).toBe(true)
      await expectHonestTunnel(stage, expect)
    })
  })
}
