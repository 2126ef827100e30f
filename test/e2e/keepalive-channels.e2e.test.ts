import { afterAll, describe, expect, test } from 'bun:test'
import { startAgent, startGateway, startOrigin, stopAll, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

// A kept-alive channel that the local service closes while idle must never swallow the next
// request (on Bun and Deno a request on such a channel once hung). The origin (on Node, which
// honours keepAliveTimeout; Bun's node:http server did not here) drops idle connections after
// 2 s and says so (`Keep-Alive: timeout=2`): the gateway lets go of the channel a second before.
for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`kept-alive channels (gateway on ${runtime})`, () => {
    test('back-to-back requests reuse one channel; after the service closes it, the next request still succeeds', async () => {
      const origin = await startOrigin('node', 2000)
      const gw = await startGateway(runtime)
      const alice = await tokenFor('alice')
      const agent = await startAgent(gw.url, alice, origin.url)
      const get = async (path: string) => {
        const res = await fetch(`${gw.url}/t/alice${path}`, { headers: { authorization: `Bearer ${alice}` } })
        return { status: res.status, body: await res.text() }
      }
      const first = await get('/socket-id')
      const second = await get('/socket-id')
      expect(first.status).toBe(200)
      // Same TCP connection at the origin: the channel was kept alive and reused.
      expect(second).toEqual(first)
      // The agent counts requests, not channels: two requests on one reused channel are two.
      await agent.proc.waitFor(/requests served: 2\b/)
      // Let the idle connection go (the gateway at 1 s, the origin at 2–3 s), then ask again.
      await Bun.sleep(3_300)
      const again = await get('/socket-id')
      expect(again.status).toBe(200)
      expect(Number(again.body)).toBeGreaterThan(Number(first.body))
      // A POST with a small body after an idle close also goes through (it is retryable).
      await Bun.sleep(3_300)
      const posted = await fetch(`${gw.url}/t/alice/sha256`, { method: 'POST', headers: { authorization: `Bearer ${alice}` }, body: 'abc' })
      expect(await posted.json()).toEqual({ size: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' })
    })
  })
}
