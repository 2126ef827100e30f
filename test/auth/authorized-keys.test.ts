import { describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { addAuthorizedKeys, authorizedKeysPath, parseAuthorizedKeys, readAuthorizedKeys } from '../../src/auth/authorized-keys.ts'
import { tempDir } from '../support/processes.ts'
import { sshKeygen } from '../openssh/support.ts'

const keys = tempDir('burrow-keys-')
const ed = sshKeygen(keys, 'ed')
const rsa = sshKeygen(keys, 'rsa', 'rsa')
const edPub = readFileSync(`${ed}.pub`, 'utf8')
const rsaPub = readFileSync(`${rsa}.pub`, 'utf8')
/** What `ssh-keygen -l` says, the reference for fingerprints. */
const keygenFingerprint = (pub: string) => execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(' ')[1]!

describe('parseAuthorizedKeys', () => {
  test('reads plain public keys, ignores comments and blank lines, fingerprints like ssh-keygen -l', () => {
    const parsed = parseAuthorizedKeys(`# alice's keys\n\n${edPub}\r\n  ${rsaPub}`)
    expect(parsed.skipped).toEqual([])
    expect(parsed.keys.map((k) => [k.type, k.comment, k.fingerprint])).toEqual([
      ['ssh-ed25519', 'ed@test', keygenFingerprint(`${ed}.pub`)],
      ['ssh-rsa', 'rsa@test', keygenFingerprint(`${rsa}.pub`)],
    ])
  })

  test('skips lines with options, private keys and garbage (honouring a key without its from= would grant more)', () => {
    const parsed = parseAuthorizedKeys(`restrict,from="10.0.0.1" ${edPub}ssh-ed25519 not-base64\n${rsaPub}`)
    expect(parsed.skipped).toEqual([1, 2])
    expect(parsed.keys.map((k) => k.type)).toEqual(['ssh-rsa'])
  })
})

describe('authorized keys on disk', () => {
  test('user names that could leave users/ have no path', () => {
    for (const bad of ['../etc', 'a/b', '.', '..', 'Alice', '', '-x', 'a'.repeat(64)]) expect(authorizedKeysPath('/data', bad)).toBeUndefined()
    expect(authorizedKeysPath('/data', 'alice-2')).toBe('/data/users/alice-2/authorized_keys')
  })

  test('add writes 0600 under a 0700 dir, skips keys already present, and read finds them', async () => {
    const dir = tempDir()
    const first = await addAuthorizedKeys(dir, 'alice', edPub)
    expect(first.ok && first.added.map((k) => k.comment)).toEqual(['ed@test'])
    const second = await addAuthorizedKeys(dir, 'alice', edPub + rsaPub)
    expect(second.ok && [second.added.map((k) => k.comment), second.alreadyPresent.map((k) => k.comment)]).toEqual([['rsa@test'], ['ed@test']])
    const path = authorizedKeysPath(dir, 'alice')!
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700)
    expect((await readAuthorizedKeys(dir, 'alice')).keys.map((k) => k.type)).toEqual(['ssh-ed25519', 'ssh-rsa'])
    expect((await readAuthorizedKeys(dir, 'nobody')).keys).toEqual([])
  })

  test('add refuses a private key, a non-key and an invalid user, writing nothing', async () => {
    const dir = tempDir()
    const priv = await addAuthorizedKeys(dir, 'alice', readFileSync(ed, 'utf8'))
    expect(priv).toEqual({ ok: false, message: expect.stringContaining('private key') })
    const junk = await addAuthorizedKeys(dir, 'alice', `${edPub}hello\n`)
    expect(junk).toEqual({ ok: false, message: expect.stringContaining('line 2 is not an OpenSSH public key') })
    expect((await addAuthorizedKeys(dir, '../x', edPub)).ok).toBe(false)
    expect((await readAuthorizedKeys(dir, 'alice')).keys).toEqual([])
  })

  test('a hand-edited file keeps working around a line it cannot use', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'users', 'bob'), { recursive: true })
    writeFileSync(join(dir, 'users', 'bob', 'authorized_keys'), `command="x" ${rsaPub}${edPub}`)
    const read = await readAuthorizedKeys(dir, 'bob')
    expect([read.keys.map((k) => k.type), read.skipped]).toEqual([['ssh-ed25519'], [1]])
  })
})
