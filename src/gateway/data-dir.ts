import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import ssh2 from '../wire/ssh2.ts'
import { ADMIN_TOKEN_MIN_LENGTH, SECRET_MIN_LENGTH } from '../config/index.ts'
import { fingerprintOfBlob } from '../wire/index.ts'

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

/**
 * The data dir cannot be used as it is: the message names the directory or file, what is wrong
 * and what to do (`burrow serve` and `burrow token` print it and exit 2).
 */
export class DataDirError extends Error {
  override readonly name = 'DataDirError'
}

const FILES = { hostKey: 'ssh_host_ed25519_key', secret: 'secret', adminToken: 'admin_token' } as const

/**
 * Open (or initialise) the data dir; values given in config win over files. Every value is held to
 * the same rules wherever it comes from (config or file): a secret of at least SECRET_MIN_LENGTH
 * characters, an admin token of ADMIN_TOKEN_MIN_LENGTH. A file others can read is refused, as
 * OpenSSH refuses an unprotected private key. Throws DataDirError.
 */
export function openDataDir(dir: string, given: { secret?: string | undefined; adminToken?: string | undefined }): DataDir {
  const abs = resolve(dir)
  try {
    mkdirSync(abs, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new DataDirError(`Cannot use the data dir ${abs}: ${reasonOf(err)}. Set BURROW_DATA_DIR to a directory this user can write.`)
  }
  const hostKey = readOrCreate(join(abs, FILES.hostKey), generateHostKey, (key) => (sshUtils.parseKey(key) instanceof Error ? 'is not an SSH private key ssh2 can read' : undefined))
  const secret = given.secret ?? readOrCreate(join(abs, FILES.secret), () => randomBytes(32).toString('base64url'), atLeast(SECRET_MIN_LENGTH, 'BURROW_SECRET'))
  const adminTokenPath = given.adminToken === undefined ? join(abs, FILES.adminToken) : undefined
  const adminToken = given.adminToken ?? readOrCreate(adminTokenPath!, () => randomBytes(24).toString('base64url'), atLeast(ADMIN_TOKEN_MIN_LENGTH, 'BURROW_ADMIN_TOKEN'))
  return { dir: abs, hostKey, hostKeyFingerprint: fingerprintOf(hostKey), secret, adminToken, adminTokenPath }
}

/**
 * The token secret of an existing data dir (or `given`), without creating anything: `burrow token`
 * run in the wrong directory must say so, not mint tokens with a new secret no gateway knows.
 * Throws DataDirError naming the directory it looked in.
 */
export function readSecret(dir: string, given: string | undefined): string {
  if (given !== undefined) return given
  const abs = resolve(dir)
  const path = join(abs, FILES.secret)
  if (!existsSync(abs)) throw new DataDirError(`Cannot sign a token: there is no data dir at ${abs}. Point BURROW_DATA_DIR (or --data-dir) at the gateway's, or set BURROW_SECRET.`)
  if (!existsSync(path)) throw new DataDirError(`Cannot sign a token: ${abs} has no secret file (the gateway writes it on its first start). Point BURROW_DATA_DIR (or --data-dir) at the gateway's, or set BURROW_SECRET.`)
  return readChecked(path, atLeast(SECRET_MIN_LENGTH, 'BURROW_SECRET'))
}

/** SHA256 fingerprint in OpenSSH's form of a private or public key. Throws if ssh2 cannot read it. */
export function fingerprintOf(key: string | Buffer): string {
  const parsed = sshUtils.parseKey(key)
  if (parsed instanceof Error) throw new Error(`Cannot read SSH key: ${parsed.message}`)
  return fingerprintOfBlob(parsed.getPublicSSH())
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

type Check = (value: string) => string | undefined

function atLeast(min: number, variable: string): Check {
  return (value) =>
    value.length >= min ? undefined : `holds ${value.length} characters where at least ${min} are needed (delete it to have a new one made, or set ${variable})`
}

function readOrCreate(path: string, create: () => string, check: Check): string {
  if (existsSync(path)) return readChecked(path, check)
  const value = create()
  // Write a private temp file, then publish it with link(): link fails if the name exists, so two
  // gateways starting on one fresh dir agree on one key, and no reader ever sees a half-written file.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    writeFileSync(tmp, value + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    throw new DataDirError(`Cannot write ${path}: ${reasonOf(err)}. The data dir must be writable by the gateway's user.`)
  }
  try {
    linkSync(tmp, path)
    return value
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readChecked(path, check)
    throw new DataDirError(`Cannot write ${path}: ${reasonOf(err)}`)
  } finally {
    unlinkSync(tmp)
  }
}

function readChecked(path: string, check: Check): string {
  let value: string
  try {
    // Group or others may read it: a key or secret everyone on the host can read is no secret.
    const mode = statSync(path).mode & 0o777
    if ((mode & 0o077) !== 0) throw new DataDirError(`Cannot use ${path}: it is readable by others (mode ${mode.toString(8).padStart(4, '0')}). Run: chmod 600 ${path}`)
    value = readFileSync(path, 'utf8').trim()
  } catch (err) {
    if (err instanceof DataDirError) throw err
    throw new DataDirError(`Cannot read ${path}: ${reasonOf(err)}. It must be readable by the gateway's user.`)
  }
  const problem = check(value)
  if (problem !== undefined) throw new DataDirError(`Cannot use ${path}: it ${problem}`)
  return value
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied'
  if (e.code === 'EROFS') return 'the file system is read-only'
  if (e.code === 'ENOTDIR') return 'a part of the path is a file, not a directory'
  return e.message
}
