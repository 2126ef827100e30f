import { afterAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { patternChunk } from '../fixtures/pattern.ts'
import { startAgent, startGateway, startOrigin, stopAll, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

// The same tunnel smoke with the gateway on each runtime (agent on Bun, origin on Bun).
for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
  describe(`gateway on ${runtime}`, () => {
    test('healthz, auth refusals, GET, POST, 8 MiB download, SSE, WebSocket echo and concurrency through a tunnel', async () => {
      const origin = await startOrigin()
      const gw = await startGateway(runtime)
      expect(gw.proc.output()).toContain(`(${runtime})`)
      const health = await fetch(`${gw.url}/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok' })

      const alice = await tokenFor('alice')
      const noUpgrade = await fetch(`${gw.url}/tunnel`)
      expect(noUpgrade.status).toBe(401)
      await startAgent(gw.url, alice, origin.url, { connections: 2 })
      const auth = { authorization: `Bearer ${alice}` }

      const hello = await fetch(`${gw.url}/t/alice/hello?r=${runtime}`, { headers: auth })
      expect(await hello.text()).toBe(`hello from origin ?r=${runtime}`)
      expect((await fetch(`${gw.url}/t/alice/hello`, { headers: { authorization: `Bearer ${await tokenFor('bob')}` } })).status).toBe(403)

      const payload = patternChunk(0, 3 * 1024 * 1024 + 17)
      const posted = await fetch(`${gw.url}/t/alice/sha256`, { method: "POST", headers: auth, body: new Uint8Array(payload) })
      expect(await posted.json()).toEqual({ size: payload.length, sha256: createHash('sha256').update(payload).digest('hex') })

      const size = 8 * 1024 * 1024
      const dl = await fetch(`${gw.url}/t/alice/download?size=${size}`, { headers: auth })
      if (runtime !== 'bun') expect(dl.headers.get('content-length')).toBe(String(size))
      const bytes = new Uint8Array(await dl.arrayBuffer())
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(patternChunk(0, size)).digest('hex'))

      const sse = await fetch(`${gw.url}/t/alice/sse?n=5&every=10`, { headers: auth })
      expect((await sse.text()).match(/^data: /gm)).toHaveLength(5)

      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/t/alice/ws`, { headers: auth } as never)
      ws.binaryType = 'arraybuffer'
      await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onclose = () => reject(new Error('WebSocket closed before open')))))
      const echoed = new Promise<unknown[]>((resolve) => {
        const got: unknown[] = []
        ws.onmessage = (e) => {
          got.push(typeof e.data === 'string' ? e.data : [...new Uint8Array(e.data as ArrayBuffer)])
          if (got.length === 2) resolve(got)
        }
      })
      ws.send(`hi ${runtime}`)
      ws.send(new Uint8Array([9, 8, 7]))
      expect(await echoed).toEqual([`hi ${runtime}`, [9, 8, 7]])
      ws.close()

      const many = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${gw.url}/t/alice/hello?i=${i}`, { headers: auth }).then((r) => r.text())))
      expect(many).toEqual(Array.from({ length: 40 }, (_, i) => `hello from origin ?i=${i}`))
    }, 90_000)
  })
}
