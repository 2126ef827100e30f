import { afterAll, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { verifyToken } from '../../src/auth/tokens.ts'
import { runtimeCommand, startProcess, stopAll, tempDir } from '../support/processes.ts'

afterAll(stopAll)

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | string; out: string }> {
  const [cmd, argv] = runtimeCommand('bun', 'src/cli.ts', args)
  const p = startProcess(cmd, argv, env)
  const code = await p.exited()
  return { code, out: p.output() }
}

describe('burrow serve with bad configuration', () => {
  test('exits 2 and names every offending variable, the value received and what was expected', async () => {
    const { code, out } = await run(['serve'], { MAX_CONNECTIONS_PER_USER: 'abc', PORT: '70000', SSH_MAX_CHANNELS: '0', BURROW_DATA_DIR: tempDir() })
    expect(code).toBe(2)
    expect(out).toContain('Cannot start: invalid configuration (3 issues)')
    expect(out).toMatch(/MAX_CONNECTIONS_PER_USER: expected .*received "abc"/)
    expect(out).toMatch(/PORT: expected .*65535.*received "70000"/)
    expect(out).toMatch(/SSH_MAX_CHANNELS: expected .*received "0"/)
  })

  test('the same refusal on Deno and Node', async () => {
    for (const runtime of ['deno', 'node'] as const) {
      const [cmd, argv] = runtimeCommand(runtime, 'src/cli.ts', ['serve'])
      const p = startProcess(cmd, argv, { LOG_LEVEL: 'loud', BURROW_DATA_DIR: tempDir() })
      expect(await p.exited()).toBe(2)
      expect(p.output()).toContain('LOG_LEVEL: expected one of debug, info, warn, error, received "loud"')
    }
  })
})

describe('burrow token', () => {
  test('prints a token for USER signed with the secret generated on first start (0600 in the data dir)', async () => {
    const dir = tempDir()
    const { code, out } = await run(['token', 'alice', '--ttl', '2h'], { BURROW_DATA_DIR: dir })
    expect(code).toBe(0)
    const secretFile = join(dir, 'secret')
    expect(statSync(secretFile).mode & 0o777).toBe(0o600)
    const secret = (await Bun.file(secretFile).text()).trim()
    const verified = await verifyToken(secret, out.trim())
    expect(verified).toMatchObject({ ok: true, claims: { user: 'alice' } })
  })

  test('refuses a bad TTL or user name with exit 2', async () => {
    expect((await run(['token', 'alice', '--ttl', 'forever'], { BURROW_DATA_DIR: tempDir() })).code).toBe(2)
    const bad = await run(['token', 'Not/A/Name'], { BURROW_DATA_DIR: tempDir() })
    expect(bad.code).toBe(2)
    expect(bad.out).toContain('is not a valid tunnel name')
  })
})

describe('burrow connect usage', () => {
  test('missing flags exit 2 with what is expected', async () => {
    const { code, out } = await run(['connect', '--server', 'http://127.0.0.1:1'])
    expect(code).toBe(2)
    expect(out).toContain('connect needs --token')
  })

  test('an unknown command exits 2', async () => {
    expect((await run(['frobnicate'])).code).toBe(2)
  })
})
