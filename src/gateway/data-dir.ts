import { createHash, randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import ssh2 from 'ssh2'

// ssh2 is CommonJS: Node's ESM loader sees only its default export.
const sshUtils = ssh2.utils

/** What the gateway keeps on disk, created on first start (files 0600, directory 0700). */
export interface DataDir {
  readonly dir: string
  readonly hostKey: string
  readonly hostKeyFingerprint: string
  readonly secret: string
  readonly adminToken: string
  /** Where the admin token lives, or undefined when it came from config. */
  readonly adminTokenPath: string | undefined
}

function readOrCreate(path: string, create: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  const value = create()
  // Write a private temp file, then publish it with link(): link fails if the name exists, so two
  // gateways starting on one fresh dir agree on one key, and no reader ever sees a half-written file.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  writeFileSync(tmp, value + '\n', { mode: 0o600, flag: 'wx' })
  try {
    linkSync(tmp, path)
    return value
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim()
    throw err
  } finally {
    unlinkSync(tmp)
  }
}

/** SHA256 fingerprint in OpenSSH's form (`SHA256:` + unpadded base64 of the public key blob). */
export function fingerprintOf(key: string | Buffer): string {
  const parsed = sshUtils.parseKey(key)
  if (parsed instanceof Error) throw new Error(`Cannot read SSH key: ${parsed.message}`)
  const blob = parsed.getPublicSSH()
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
}

/**
 * A new ed25519 host key in OpenSSH format. ssh2 1.17's generateKeyPairSync('ed25519') emits a key
 * that its own parseKey() rejects ("Malformed OpenSSH private key") about 1 time in 200 (16 of
 * 3,000 on Bun and on Node): such a key would make this first start, and every later one, fail.
 */
export function generateHostKey(): string {
  for (let attempt = 1; ; attempt++) {
    const key = sshUtils.generateKeyPairSync('ed25519').private
    if (!(sshUtils.parseKey(key) instanceof Error)) return key
    if (attempt >= 20) throw new Error('Cannot generate an SSH host key: ssh2 produced unreadable keys 20 times')
  }
}

/** Open (or initialise) the data dir; values given in config win over files. */
export function openDataDir(dir: string, given: { secret?: string | undefined; adminToken?: string | undefined }): DataDir {
  const abs = resolve(dir)
  mkdirSync(abs, { recursive: true, mode: 0o700 })
  const hostKey = readOrCreate(join(abs, 'ssh_host_ed25519_key'), generateHostKey)
  const secret = given.secret ?? readOrCreate(join(abs, 'secret'), () => randomBytes(32).toString('base64url'))
  const adminTokenPath = given.adminToken === undefined ? join(abs, 'admin_token') : undefined
  const adminToken = given.adminToken ?? readOrCreate(adminTokenPath!, () => randomBytes(24).toString('base64url'))
  return { dir: abs, hostKey, hostKeyFingerprint: fingerprintOf(hostKey), secret, adminToken, adminTokenPath }
}
