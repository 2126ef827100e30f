import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import ssh2, { type AuthContext, type ParsedKey } from 'ssh2'
import { addAuthorizedKeys } from '../../src/auth/authorized-keys.ts'
import { sshCredentials } from '../../src/auth/ssh-credentials.ts'
import { signToken } from '../../src/auth/tokens.ts'
import { createVerifier } from '../../src/auth/verifier.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { tempDir, TEST_SECRET } from '../support/processes.ts'
import { sshKeygen } from '../openssh/support.ts'

const keysDir = tempDir('burrow-cred-keys-')
const load = (path: string) => ssh2.utils.parseKey(readFileSync(path)) as ParsedKey
const alice = load(sshKeygen(keysDir, 'alice'))
const rsa = load(sshKeygen(keysDir, 'rsa', 'rsa'))
const mallory = load(sshKeygen(keysDir, 'mallory'))

const dataDir = tempDir()
await addAuthorizedKeys(dataDir, 'alice', `${alice.type} ${alice.getPublicSSH().toString('base64')}\n${rsa.type} ${rsa.getPublicSSH().toString('base64')}\n`)
const check = sshCredentials({ dataDir, verify: createVerifier({ secret: TEST_SECRET }), log: silentLogger })

/** A publickey request as ssh2 hands it over: `blob` is what ssh2 built from the session id and request. */
function publickey(username: string, offered: ParsedKey, signer?: ParsedKey, hashAlgo?: string): AuthContext {
  const blob = randomBytes(64)
  const signed = signer === undefined ? {} : { blob, signature: signer.sign(blob, hashAlgo) as Buffer, hashAlgo }
  return { method: 'publickey', username, key: { algo: offered.type, data: offered.getPublicSSH() }, ...signed } as unknown as AuthContext
}
const password = (username: string, pw: string) => ({ method: 'password', username, password: pw }) as unknown as AuthContext

describe('sshCredentials', () => {
  test.each([
    ['a query for an authorized key', () => publickey('alice', alice), 'key-ok'],
    ['a valid ed25519 signature', () => publickey('alice', alice, alice), 'authenticated'],
    ['a valid rsa-sha2-256 signature', () => publickey('alice', rsa, rsa, 'sha256'), 'authenticated'],
    ["alice's key offered, signed by another key", () => publickey('alice', alice, mallory), 'rejected'],
    ['a key not on file (query)', () => publickey('alice', mallory), 'rejected'],
    ['a key not on file (signed)', () => publickey('alice', mallory, mallory), 'rejected'],
    ["alice's key for another user", () => publickey('bob', alice, alice), 'rejected'],
    ['a user name that is not a user', () => publickey('../alice', alice, alice), 'rejected'],
  ] as const)('%s → %s', async (_name, ctx, expected) => {
    expect(await check(ctx())).toBe(expected)
  })

  test('a token is a password for its own user only', async () => {
    const now = Date.now()
    const token = await signToken(TEST_SECRET, 'alice', 60, now)
    // Authenticated until the token's exp (seconds): the gateway ends the session then.
    expect(await check(password('alice', token))).toEqual({ exp: Math.floor(now / 1000) + 60 })
    expect(await check(password('bob', token))).toBe('rejected')
    expect(await check(password('alice', 'hunter2'))).toBe('rejected')
    expect(await check(password('alice', await signToken('another-secret-0123456789-abcdefghijkl', 'alice', 60)))).toBe('rejected')
  })

  test('other methods are refused', async () => {
    expect(await check({ method: 'keyboard-interactive', username: 'alice' } as unknown as AuthContext)).toBe('rejected')
    expect(await check({ method: 'hostbased', username: 'alice' } as unknown as AuthContext)).toBe('rejected')
  })
})
