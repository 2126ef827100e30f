import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runtimeCommand, startProcess, tempDir } from '../support/processes.ts'

// Every adapter must load on every runtime without touching its own runtime's globals (Hono's
// hono/bun and hono/deno read them at import time, which is why they are not used): the public
// createGateway() builds the running runtime's adapter at once, and a test can build any.
describe('runtime adapters load anywhere', () => {
  for (const runtime of ['bun', 'deno', 'node'] as const) {
    test(`on ${runtime}: all three adapters are built, createGateway() picks ${runtime}'s, and nothing touches the disk`, async () => {
      const data = join(tempDir(), 'data')
      const [cmd, args] = runtimeCommand(runtime, 'test/fixtures/load-adapters.ts', [data])
      const p = startProcess(cmd, args)
      expect(await p.exited()).toBe(0)
      expect(p.output()).toContain(`built bun,deno,node picked ${runtime} websocket ${runtime === 'bun' ? 'ready' : 'none'}`)
      expect(existsSync(data)).toBe(false)
    }, 30_000)
  }
})
