import { describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { keysCommand } from '../../src/cli/keys.ts'
import { tempDir } from '../support/processes.ts'
import { sshKeygen } from '../openssh/support.ts'

const keys = tempDir('burrow-cli-keys-')
const ed = sshKeygen(keys, 'laptop')

async function run(argv: string[], dataDir: string, stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await keysCommand(argv, { dataDir, stdin: Readable.from([Buffer.from(stdin)]), out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('burrow keys', () => {
  test('add KEYFILE prints the SHA256 fingerprint ssh-keygen -l gives; list shows it', async () => {
    const dir = tempDir()
    const fp = execFileSync('ssh-keygen', ['-lf', `${ed}.pub`], { encoding: 'utf8' }).split(' ')[1]!
    expect(await run(['add', 'alice', `${ed}.pub`], dir)).toEqual({ code: 0, out: `added ${fp} ssh-ed25519 laptop@test`, err: '' })
    expect(await run(['list', 'alice'], dir)).toEqual({ code: 0, out: `${fp} ssh-ed25519 laptop@test`, err: '' })
  })

  test('add - reads stdin; a key already present is not added twice', async () => {
    const dir = tempDir()
    const pub = readFileSync(`${ed}.pub`, 'utf8')
    expect((await run(['add', 'bob', '-'], dir, pub)).out).toStartWith('added SHA256:')
    expect((await run(['add', 'bob', '-'], dir, pub)).out).toStartWith('already present SHA256:')
    expect((await run(['list', 'bob'], dir)).out.split('\n')).toHaveLength(1)
  })

  test('a private key, a bad user or a missing argument is a usage error (exit 2)', async () => {
    const dir = tempDir()
    const priv = await run(['add', 'alice', ed], dir)
    expect([priv.code, priv.err]).toEqual([2, expect.stringContaining('this is a private key')])
    expect((await run(['add', '../etc', `${ed}.pub`], dir)).code).toBe(2)
    expect((await run(['add', 'alice'], dir)).code).toBe(2)
    expect((await run(['remove', 'alice'], dir)).code).toBe(2)
    expect((await run([], dir)).code).toBe(2)
  })

  test('an unreadable KEYFILE exits 1 and says which; list of a user without keys says so', async () => {
    const dir = tempDir()
    const missing = await run(['add', 'alice', '/nonexistent/key.pub'], dir)
    expect([missing.code, missing.err]).toEqual([1, expect.stringContaining('Cannot read /nonexistent/key.pub')])
    expect(await run(['list', 'carol'], dir)).toEqual({ code: 0, out: '', err: expect.stringContaining('no keys for carol') })
  })
})
