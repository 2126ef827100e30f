/**
 * The host apps in examples/, each run as a real process on its runtime, exactly as their header
 * comment says: their own routes answer, and through Burrow mounted at /tunnels an agent's tunnel
 * carries a request, an SSE stream and a consumer WebSocket; SIGTERM drains and exits 0.
 * `burrow` resolves to this package (its `exports`: the build in dist/, rebuilt here when older
 * than the sources).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { ensureBuilt } from '../support/build.ts'
import { ROOT, startAgent, startOrigin, startProcess, stopAll, tempDir, TEST_SECRET, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

let origin: Origin

beforeAll(async () => {
  await ensureBuilt()
  origin = await startOrigin()
}, 150_000)
afterAll(stopAll)

const EXAMPLES = [
  ['bun', 'examples/bun-host.ts', [process.execPath, ['examples/bun-host.ts']]],
  ['deno', 'examples/deno-host.ts', [join(ROOT, 'node_modules/deno/deno'), ['run', '--allow-net', '--allow-read', '--allow-write', '--allow-env', '--allow-sys', 'examples/deno-host.ts']]],
  ['node', 'examples/node-host.mjs', ['node', ['examples/node-host.mjs']]],
] as const

for (const [runtime, file, [cmd, args]] of EXAMPLES) {
  describe(`${file} on ${runtime}`, () => {
    test('own routes, and a tunnel under /tunnels: a request, an SSE stream, a consumer WebSocket; SIGTERM exits 0', async () => {
      const host = startProcess(cmd, [...args], { PORT: '0', HOST: '127.0.0.1', BURROW_DATA_DIR: tempDir(), BURROW_SECRET: TEST_SECRET })
      const [, port] = await host.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+) \(Burrow under \/tunnels\)/, 30_000)
      const base = `http://127.0.0.1:${port}`
      expect(await (await fetch(`${base}/`)).text()).toBe('my app; tunnels under /tunnels\n')
      expect(((await (await fetch(`${base}/api/time`)).json()) as { now: string }).now).toMatch(/^20\d\d-/)
      expect(await (await fetch(`${base}/tunnels/healthz`)).json()).toEqual({ status: 'ok' })

      const alice = await tokenFor('alice')
      const agent = await startAgent(`${base}/tunnels`, alice, origin.url)
      const auth = { authorization: `Bearer ${alice}` }
      const hello = await fetch(`${base}/tunnels/t/alice/hello?from=${runtime}`, { headers: auth })
      expect(await hello.text()).toBe(`hello from origin ?from=${runtime}`)

      const sse = await fetch(`${base}/tunnels/t/alice/sse?n=4&every=20`, { headers: auth })
      expect(sse.headers.get('content-type')).toStartWith('text/event-stream')
      expect((await sse.text()).match(/^data: /gm)).toHaveLength(4)

      const ws = new WebSocket(`ws://127.0.0.1:${port}/tunnels/t/alice/ws`, { headers: auth } as never)
      await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = () => reject(new Error('consumer WebSocket failed')))))
      const echoed = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(String(e.data))))
      ws.send(`through the ${runtime} host`)
      expect(await echoed).toBe(`through the ${runtime} host`)
      ws.close()

      host.kill('SIGTERM')
      expect(await host.exited()).toBe(0)
      // The drain told the agent; it reconnects (and fails) until stopped.
      await agent.proc.waitFor(/server shutting down|reconnecting|cannot reach/, 20_000)
    }, 90_000)
  })
}
