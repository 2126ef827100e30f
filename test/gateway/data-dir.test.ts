import { describe, expect, test } from 'bun:test'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fingerprintOf, generateHostKey, openDataDir } from '../../src/gateway/data-dir.ts'
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
