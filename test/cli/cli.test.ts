import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyToken } from '../../src/auth/tokens.ts'
import { openDataDir } from '../../src/gateway/data-dir.ts'
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
  test("prints a token for USER signed with the gateway's secret, read from its data dir", async () => {
    const dir = tempDir()
    openDataDir(dir, {})
    const { code, out } = await run(['token', 'alice', '--ttl', '2h'], { BURROW_DATA_DIR: dir })
    expect(code).toBe(0)
    const secret = readFileSync(join(dir, 'secret'), 'utf8').trim()
    expect(await verifyToken(secret, out.trim())).toMatchObject({ ok: true, claims: { user: 'alice' } })
    // --data-dir wins over the environment.
    const viaFlag = await run(['token', 'alice', '--data-dir', dir], { BURROW_DATA_DIR: tempDir() })
    expect(await verifyToken(secret, viaFlag.out.trim())).toMatchObject({ ok: true })
  })

  test('never creates a data dir: run elsewhere, it exits 2 naming the data dir it looked for', async () => {
    const parent = tempDir()
    const missing = join(parent, '.burrow')
    const { code, out } = await run(['token', 'alice'], { BURROW_DATA_DIR: missing })
    expect(code).toBe(2)
    expect(out).toContain(`there is no data dir at ${missing}`)
    expect(out).toContain('BURROW_DATA_DIR (or --data-dir)')
    expect(existsSync(missing)).toBe(false)
    expect(readdirSync(parent)).toEqual([])
  })

  test('BURROW_SECRET signs without a data dir', async () => {
    const secret = 's'.repeat(40)
    const { code, out } = await run(['token', 'bob'], { BURROW_SECRET: secret, BURROW_DATA_DIR: join(tempDir(), 'none') })
    expect(code).toBe(0)
    expect(await verifyToken(secret, out.trim())).toMatchObject({ ok: true, claims: { user: 'bob' } })
  })

  test('refuses a bad TTL or user name with exit 2', async () => {
    expect((await run(['token', 'alice', '--ttl', 'forever'], { BURROW_DATA_DIR: tempDir() })).code).toBe(2)
    const bad = await run(['token', 'Not/A/Name'], { BURROW_DATA_DIR: tempDir() })
    expect(bad.code).toBe(2)
    expect(bad.out).toContain('is not a valid tunnel name')
  })
})

describe('every command: --help exits 0 with aligned columns, anything unknown exits 2', () => {
  test.each(['serve', 'connect', 'token', 'keys', 'ws-stdio'])('%s --help and -h', async (command) => {
    for (const flag of ['--help', '-h']) {
      const { code, out } = await run([command, flag], { BURROW_DATA_DIR: join(tempDir(), 'none') })
      expect({ command, flag, code }).toEqual({ command, flag, code: 0 })
      expect(out).toContain(`Usage: burrow ${command}`)
    }
  })

  test('serve -h prints help and starts no gateway (it once served on 0.0.0.0:8080)', async () => {
    const dir = join(tempDir(), 'data')
    const { code, out } = await run(['serve', '-h'], { BURROW_DATA_DIR: dir, PORT: '0' })
    expect(code).toBe(0)
    expect(out).not.toContain('Burrow gateway on')
    expect(existsSync(dir)).toBe(false)
    // The environment table: every meaning starts in the same column.
    const rows = out.split('\n').filter((l) => /^  [A-Z_]+ +\S/.test(l))
    const starts = new Set(rows.map((l) => l.search(/ {2}\S+ {2,}\S/)))
    expect(rows.length).toBeGreaterThan(20)
    expect(new Set(rows.map((l) => l.indexOf(l.trim().split(/ {2,}/)[2]!))).size).toBe(1)
    expect(starts.size).toBe(1)
  })

  test.each([
    [['serve', '--port', '1']],
    [['serve', 'extra']],
    [['token', 'alice', '--tll', '2h']],
    [['connect', '--server', 'http://127.0.0.1:1', '--token', 't', '--to', '3000', '--verbose']],
    [['keys', 'remove', 'alice']],
    [['ws-stdio', 'https://gw', '--tokn', 'x']],
    [['frobnicate']],
  ])('%j exits 2 with the reason', async (args) => {
    const { code, out } = await run(args, { BURROW_DATA_DIR: join(tempDir(), 'none') })
    expect({ args, code }).toEqual({ args, code: 2 })
    expect(out).toMatch(/burrow/)
  })

  test('--fingerprint must be a SHA256 fingerprint (abc was taken as SHA256:abc)', async () => {
    const { code, out } = await run(['connect', '--server', 'http://127.0.0.1:1', '--token', 't', '--to', '3000', '--fingerprint', 'abc'])
    expect(code).toBe(2)
    expect(out).toContain('--fingerprint abc: expected SHA256: and 43 base64 characters')
  })
})

describe('burrow serve banner', () => {
  test('shows the address actually bound', async () => {
    const dir = tempDir()
    const [cmd, argv] = runtimeCommand('bun', 'src/cli.ts', ['serve'])
    const p = startProcess(cmd, argv, { PORT: '0', HOST: '127.0.0.1', BURROW_DATA_DIR: dir, LOG_LEVEL: 'warn' })
    const m = await p.waitFor(/Burrow gateway on http:\/\/(\S+):(\d+) \(bun\)/)
    expect(m[1]).toBe('127.0.0.1')
    p.kill('SIGTERM')
    expect(await p.exited()).toBe(0)
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
