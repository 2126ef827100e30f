import { describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DataDirError, fingerprintOf, generateHostKey, openDataDir, readSecret } from '../../src/gateway/data-dir.ts'
import { startProcess, tempDir } from '../support/processes.ts'

describe('data dir', () => {
  test('first start creates host key, secret and admin token 0600; later opens reuse them', () => {
    const dir = tempDir()
    const a = openDataDir(dir, {})
    for (const f of ['ssh_host_ed25519_key', 'secret', 'admin_token']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
    const b = openDataDir(dir, {})
    expect(b.hostKeyFingerprint).toBe(a.hostKeyFingerprint)
    expect(b.secret).toBe(a.secret)
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  test('values from config win and are not written', () => {
    const dir = tempDir()
    const d = openDataDir(dir, { secret: 's'.repeat(40), adminToken: 'a'.repeat(20) })
    expect(d.secret).toBe('s'.repeat(40))
    expect(d.adminTokenPath).toBeUndefined()
    expect(readdirSync(dir).sort()).toEqual(['ssh_host_ed25519_key'])
  })

  test('several processes opening one fresh dir at once agree on one host key', async () => {
    const dir = tempDir()
    const script = `import { openDataDir } from '${join(import.meta.dir, '../../src/gateway/data-dir.ts')}'; console.log('fp', openDataDir(process.argv[2], {}).hostKeyFingerprint)`
    const file = join(dir, 'open.ts')
    await Bun.write(file, script)
    const data = join(dir, 'data')
    const procs = Array.from({ length: 6 }, () => startProcess(process.execPath, [file, data]))
    const codes = await Promise.all(procs.map((p) => p.exited()))
    expect(codes).toEqual(Array(6).fill(0))
    const fps = new Set(procs.map((p) => /fp (\S+)/.exec(p.output())?.[1]))
    expect(fps.size).toBe(1)
    expect([...fps][0]).toMatch(/^SHA256:/)
  })
})

describe('generateHostKey()', () => {
  test('every generated host key parses (ssh2 alone yields an unreadable one about 1 time in 200)', () => {
    for (let i = 0; i < 1_000; i++) expect(fingerprintOf(generateHostKey())).toStartWith('SHA256:')
  })
})

describe('data dir: every source of a secret is held to the same rules, with errors that say what to do', () => {
  const fresh = () => {
    const dir = tempDir()
    openDataDir(dir, {})
    return dir
  }

  test('an empty or too short secret file is refused, naming the file (the same 32 characters BURROW_SECRET needs)', () => {
    for (const content of ['', 'changeme\n']) {
      const dir = fresh()
      writeFileSync(join(dir, 'secret'), content, { mode: 0o600 })
      expect(() => openDataDir(dir, {})).toThrow(new RegExp(`Cannot use ${join(dir, 'secret')}: it holds \\d+ characters where at least 32 are needed`))
      expect(() => readSecret(dir, undefined)).toThrow(/at least 32 are needed/)
    }
  })

  test('a too short admin token file is refused', () => {
    const dir = fresh()
    writeFileSync(join(dir, 'admin_token'), 'short', { mode: 0o600 })
    expect(() => openDataDir(dir, {})).toThrow(/admin_token: it holds 5 characters where at least 16 are needed/)
  })

  test('a key or secret others can read is refused, as OpenSSH refuses an unprotected private key', () => {
    for (const file of ['ssh_host_ed25519_key', 'secret', 'admin_token']) {
      const dir = fresh()
      chmodSync(join(dir, file), 0o644)
      expect(() => openDataDir(dir, {})).toThrow(`it is readable by others (mode 0644). Run: chmod 600 ${join(dir, file)}`)
    }
  })

  test('a data dir that cannot be created names itself and the variable to change', () => {
    const parent = tempDir()
    writeFileSync(join(parent, 'file'), 'x')
    expect(() => openDataDir(join(parent, 'file', 'data'), {})).toThrow(DataDirError)
    expect(() => openDataDir(join(parent, 'file', 'data'), {})).toThrow(/Cannot use the data dir .*file\/data: .*Set BURROW_DATA_DIR/)
  })

  test('readSecret() creates nothing: a missing dir or secret is an error naming where it looked', () => {
    const missing = join(tempDir(), 'nothing-here')
    expect(() => readSecret(missing, undefined)).toThrow(`there is no data dir at ${missing}`)
    expect(existsSync(missing)).toBe(false)
    const empty = tempDir()
    expect(() => readSecret(empty, undefined)).toThrow(`${empty} has no secret file`)
    expect(readdirSync(empty)).toEqual([])
    expect(readSecret(missing, 's'.repeat(40))).toBe('s'.repeat(40))
  })
})
