import type { Readable } from 'node:stream'
import { readFile } from 'node:fs/promises'
import { EXIT } from './exit-codes.ts'
import { commandHelp, usageHint, type CommandHelp } from './help.ts'
import { addAuthorizedKeys, authorizedKeysPath, readAuthorizedKeys, type AuthorizedKey } from '../auth/authorized-keys.ts'

/** The streams and settings a CLI command uses, passed in by cli.ts (the only place that touches `process`). */
export interface KeysIo {
  readonly dataDir: string
  readonly stdin: Readable
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

export const KEYS_HELP: CommandHelp = {
  synopsis: 'keys add USER KEYFILE|- | keys list USER',
  summary: "Manage the OpenSSH public keys that may open USER's tunnel on SSH_PORT (read at every login).",
  options: [
    ['add USER KEYFILE|-', 'authorize the public key(s) in KEYFILE (- reads stdin); prints their fingerprints'],
    ['list USER', "print USER's authorized keys with their SHA256 fingerprints"],
  ],
  notes: ['The keys live in <BURROW_DATA_DIR>/users/<USER>/authorized_keys.'],
}

const EXIT_OK = EXIT.ok
const EXIT_FAILURE = EXIT.failure
const EXIT_USAGE = EXIT.usage

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
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(commandHelp(KEYS_HELP))
    return EXIT_OK
  }
  const [sub, user, source, ...extra] = argv
  const usage = (message: string) => {
    io.err(usageHint(KEYS_HELP, message))
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
