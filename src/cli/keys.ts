import type { Readable } from 'node:stream'
import { readFile } from 'node:fs/promises'
import { addAuthorizedKeys, authorizedKeysPath, readAuthorizedKeys, type AuthorizedKey } from '../auth/authorized-keys.ts'

/** The streams and settings a CLI command uses, passed in by cli.ts (the only place that touches `process`). */
export interface KeysIo {
  readonly dataDir: string
  readonly stdin: Readable
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

export const KEYS_USAGE = `  burrow keys add USER KEYFILE|-     authorize an OpenSSH public key for USER (- reads stdin)
  burrow keys list USER              print USER's authorized keys with their SHA256 fingerprints`

const EXIT_OK = 0
const EXIT_FAILURE = 1
const EXIT_USAGE = 2

function describe(k: AuthorizedKey): string {
  return `${k.fingerprint} ${k.type}${k.comment ? ' ' + k.comment : ''}`
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * `burrow keys add|list`: manage `<data dir>/users/<user>/authorized_keys`, which the gateway
 * reads on every SSH authentication (no restart needed). Returns the exit code.
 */
export async function keysCommand(argv: string[], io: KeysIo): Promise<number> {
  const [sub, user, source, ...extra] = argv
  const usage = (message: string) => {
    io.err(`burrow: ${message}\n\nUsage:\n${KEYS_USAGE}`)
    return EXIT_USAGE
  }
  if (sub !== 'add' && sub !== 'list') return usage(sub === undefined ? 'keys needs a subcommand: add or list' : `unknown keys subcommand "${sub}"`)
  if (user === undefined) return usage(`keys ${sub} needs a USER`)
  const path = authorizedKeysPath(io.dataDir, user)
  if (path === undefined) return usage(`USER "${user}" is not a valid user name (lowercase letters, digits and inner dashes, up to 63)`)

  if (sub === 'list') {
    if (source !== undefined) return usage('keys list takes only USER')
    const { keys, skipped } = await readAuthorizedKeys(io.dataDir, user)
    for (const k of keys) io.out(describe(k))
    if (keys.length === 0) io.err(`burrow: no keys for ${user} (${path})`)
    if (skipped.length > 0) io.err(`burrow: ${path}: line ${skipped.join(', ')} ignored (not a plain OpenSSH public key)`)
    return EXIT_OK
  }

  if (source === undefined || extra.length > 0) return usage('keys add needs USER and one KEYFILE (or - for stdin)')
  let text: string
  try {
    text = source === '-' ? await readAll(io.stdin) : await readFile(source, 'utf8')
  } catch (err) {
    io.err(`burrow: Cannot read ${source}: ${(err as Error).message}`)
    return EXIT_FAILURE
  }
  const result = await addAuthorizedKeys(io.dataDir, user, text)
  if (!result.ok) {
    // The KEYFILE argument is wrong (private key, not a key): a usage error, like a bad flag.
    io.err(`burrow: ${result.message}`)
    return EXIT_USAGE
  }
  for (const k of result.added) io.out(`added ${describe(k)}`)
  for (const k of result.alreadyPresent) io.out(`already present ${describe(k)}`)
  return EXIT_OK
}
