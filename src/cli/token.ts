import { parseTtl, signToken } from '../auth/tokens.ts'
import { configFromEnv, formatConfigIssues } from '../config/index.ts'
import { DataDirError, readSecret } from '../gateway/index.ts'
import { TUNNEL_NAME } from '../wire/index.ts'
import { parseCommand } from './args.ts'
import { EXIT } from './exit-codes.ts'
import { commandHelp, usageHint, type CommandHelp } from './help.ts'
import type { CliIo } from './io.ts'

export const TOKEN_HELP: CommandHelp = {
  synopsis: 'token USER [--ttl 30d] [--data-dir DIR]',
  summary: "Print a token for USER, signed with the gateway's secret. Creates nothing: run it where the gateway's data dir is.",
  options: [
    ['--ttl DURATION', 'how long the token is valid: 90s, 15m, 12h, 30d (default 30d)'],
    ['--data-dir DIR', "the gateway's data dir, which holds its secret (default: BURROW_DATA_DIR, or ./.burrow)"],
  ],
  notes: ['BURROW_SECRET in the environment is used instead of the data dir when set.'],
}

interface TokenFlags {
  ttl?: string
  'data-dir'?: string
}

/** `burrow token USER`: prints the token on stdout; returns the exit code. */
export async function tokenCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand<TokenFlags>(argv, { ttl: { type: 'string' }, 'data-dir': { type: 'string' } }, 1)
  if (parsed.kind === 'help') {
    io.out(commandHelp(TOKEN_HELP))
    return EXIT.ok
  }
  if (parsed.kind === 'usage') return usage(io, parsed.message)
  const user = parsed.positionals[0]
  if (user === undefined) return usage(io, 'token needs a USER')
  if (!TUNNEL_NAME.test(user)) return usage(io, `USER "${user}" is not a valid tunnel name (lowercase letters, digits and inner dashes, up to 63)`)
  const ttlText = parsed.values.ttl ?? '30d'
  const ttl = parseTtl(ttlText)
  if (ttl === undefined) return usage(io, `--ttl ${ttlText}: expected a duration such as 90s, 15m, 12h or 30d`)
  const env = configFromEnv(io.env)
  if (!env.ok) {
    io.err(formatConfigIssues(env.issues))
    return EXIT.usage
  }
  try {
    const secret = readSecret(parsed.values['data-dir'] ?? env.config.dataDir, env.config.secret)
    io.out(await signToken(secret, user, ttl))
    return EXIT.ok
  } catch (err) {
    if (!(err instanceof DataDirError)) throw err
    io.err(`burrow token: ${err.message}`)
    return EXIT.usage
  }
}

function usage(io: CliIo, message: string): number {
  io.err(usageHint(TOKEN_HELP, message))
  return EXIT.usage
}
