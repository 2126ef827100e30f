import { appendFile, chmod, mkdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ParsedKey } from 'ssh2'
import ssh2 from '../wire/ssh2.ts'
import { fingerprintOfBlob, TUNNEL_NAME } from '../wire/index.ts'

// ssh2 is CommonJS: Node's ESM loader sees only its default export.
const { parseKey } = ssh2.utils


/** One public key allowed to authenticate as its user. */
export interface AuthorizedKey {
  readonly type: string
  /** The SSH wire-format public key (what a client offers in publickey auth). */
  readonly blob: Buffer
  readonly comment: string
  readonly fingerprint: string
  readonly key: ParsedKey
}

export interface ParsedKeys {
  readonly keys: AuthorizedKey[]
  /** 1-based numbers of lines that are not a plain public key (options, private keys, garbage). */
  readonly skipped: number[]
}

/**
 * Users whose keys can live on disk: tunnel names (lowercase letters, digits, inner dashes). The
 * shape is also what keeps `users/<user>/` inside the data dir: no dots, no slashes.
 */
export function isValidUserName(user: string): boolean {
  return TUNNEL_NAME.test(user)
}

/** `<dataDir>/users/<user>/authorized_keys`, or undefined for a name that cannot be a user. */
export function authorizedKeysPath(dataDir: string, user: string): string | undefined {
  if (!isValidUserName(user)) return undefined
  return join(resolve(dataDir), 'users', user, 'authorized_keys')
}

/**
 * Parse OpenSSH `authorized_keys` text: one `type base64 [comment]` per line, `#` comments and
 * blank lines ignored. Lines with options (`restrict,from="…" ssh-ed25519 …`) are skipped, not
 * stripped: honouring a key while ignoring its `from=` would grant more than the file says.
 */
export function parseAuthorizedKeys(text: string): ParsedKeys {
  const keys: AuthorizedKey[] = []
  const skipped: number[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const parsed = parseKey(line)
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed
    if (key === undefined || key instanceof Error || key.isPrivateKey()) {
      skipped.push(i + 1)
      return
    }
    const blob = key.getPublicSSH()
    keys.push({ type: key.type, blob, comment: key.comment, fingerprint: fingerprintOfBlob(blob), key })
  })
  return { keys, skipped }
}

/** The user's keys; none when the user or the file does not exist. */
export async function readAuthorizedKeys(dataDir: string, user: string): Promise<ParsedKeys> {
  const path = authorizedKeysPath(dataDir, user)
  if (path === undefined) return { keys: [], skipped: [] }
  try {
    return parseAuthorizedKeys(await readFile(path, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [], skipped: [] }
    throw err
  }
}

/** Find `blob` among `keys` (public blobs are compared whole: type, parameters and key bytes). */
export function findKey(keys: readonly AuthorizedKey[], blob: Buffer): AuthorizedKey | undefined {
  return keys.find((k) => k.blob.equals(blob))
}

export type AddKeysResult =
  | { ok: true; added: AuthorizedKey[]; alreadyPresent: AuthorizedKey[] }
  | { ok: false; message: string }

/**
 * Add the public keys in `text` (a `.pub` file, or several lines of one) to the user's
 * authorized_keys, skipping ones already there. Nothing is written unless every line is a key.
 */
export async function addAuthorizedKeys(dataDir: string, user: string, text: string): Promise<AddKeysResult> {
  const path = authorizedKeysPath(dataDir, user)
  if (path === undefined) return { ok: false, message: `Cannot add keys: "${user}" is not a valid user name (lowercase letters, digits and inner dashes, up to 63)` }
  const given = parseAuthorizedKeys(text)
  if (given.skipped.length > 0) {
    const privateKey = text.includes('PRIVATE KEY')
    return {
      ok: false,
      message: privateKey
        ? 'Cannot add keys: this is a private key; give the public one (the .pub file, e.g. ~/.ssh/id_ed25519.pub)'
        : `Cannot add keys: line ${given.skipped.join(', ')} is not an OpenSSH public key ("ssh-ed25519 AAAA… comment"; options are not supported)`,
    }
  }
  if (given.keys.length === 0) return { ok: false, message: 'Cannot add keys: no public key found in the input' }
  const existing = await readAuthorizedKeys(dataDir, user)
  const added: AuthorizedKey[] = []
  const alreadyPresent: AuthorizedKey[] = []
  for (const k of given.keys) {
    if (findKey(existing.keys, k.blob) !== undefined || findKey(added, k.blob) !== undefined) alreadyPresent.push(k)
    else added.push(k)
  }
  if (added.length > 0) {
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 })
    const lines = added.map((k) => `${k.type} ${k.blob.toString('base64')}${k.comment ? ' ' + k.comment : ''}\n`).join('')
    await appendFile(path, lines, { mode: 0o600 })
    await chmod(path, 0o600)
  }
  return { ok: true, added, alreadyPresent }
}
