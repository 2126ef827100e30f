/**
 * A consumer that leaves is routine (a closed tab, a client timeout, the end of a load run): the
 * gateway logs one info line `consumer_gone` and no warning, whether the consumer left while the
 * head was pending or during the body; and the tunnel keeps serving.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { startAgent, startGateway, startOrigin, stopAll, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`gateway on ${runtime}`, () => {
    test('leaving before the head and during an SSE body: info consumer_gone, no warning', async () => {
      const origin = await startOrigin()
      const gw = await startGateway(runtime, { LOG_LEVEL: 'info' })
      const alice = await tokenFor('alice')
      await startAgent(gw.url, alice, origin.url)
      const headers = { authorization: `Bearer ${alice}` }

      const early = new AbortController()
      const pending = fetch(`${gw.url}/t/alice/slow?ms=5000`, { headers, signal: early.signal })
      setTimeout(() => early.abort(), 300)
      await expect(pending).rejects.toThrow()
      await gw.proc.waitFor(/"event":"consumer_gone"[^\n]*"during":"head"/)

      const mid = new AbortController()
      const sse = await fetch(`${gw.url}/t/alice/sse?n=50&every=50`, { headers, signal: mid.signal })
      const reader = sse.body!.getReader()
      await reader.read()
      mid.abort()
      await gw.proc.waitFor(/"event":"consumer_gone"[^\n]*"during":"body"/)

      expect((await fetch(`${gw.url}/t/alice/hello`, { headers })).status).toBe(200)
      const warnings = gw.proc.output().split('\n').filter((l) => l.includes('"level":"warn"') || l.includes('"level":"error"'))
      expect(warnings).toEqual([])
    }, 60_000)
  })
}
