#!/usr/bin/env bun
/**
 * `burrow serve | connect | token | keys | ws-stdio`: argv in, exit code out. With src/runtime/,
 * the only place that touches the process (its environment, streams, signals and exit); each
 * command lives in src/cli/ and gets what it may touch as a CliIo.
 */
import { ConfigError, formatConfigIssues } from './config/index.ts'
import { configFromEnv } from './config/index.ts'
import { CONNECT_HELP, connectCommand } from './cli/connect.ts'
import { EXIT } from './cli/exit-codes.ts'
import { overview } from './cli/help.ts'
import type { CliIo, FatalKind } from './cli/io.ts'
import { createLogger, errorFields } from './log/logger.ts'
import { KEYS_HELP, keysCommand } from './cli/keys.ts'
import { SERVE_HELP, serveCommand } from './cli/serve.ts'
import { TOKEN_HELP, tokenCommand } from './cli/token.ts'
import { WS_STDIO_HELP, wsStdioCommand } from './cli/ws-stdio.ts'

const HELP = overview([SERVE_HELP, CONNECT_HELP, TOKEN_HELP, KEYS_HELP, WS_STDIO_HELP, { synopsis: 'help', summary: 'this text' }])

// Whatever escapes (an exception nobody caught, a rejection nobody handled: a library's bug, a
// stream error without a listener) becomes one JSON `error` line and the process keeps serving,
// rather than the runtime's multi-line print or an exit. A command hands its own logger in.
const fallback = createLogger('error')
let onFatal = (kind: FatalKind, err: unknown) => fallback.error(kind, errorFields(err))
process.on('uncaughtException', (err) => onFatal('uncaught_exception', err))
process.on('unhandledRejection', (reason) => onFatal('unhandled_rejection', reason))

const io: CliIo = {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stderrIsTTY: process.stderr.isTTY === true,
  writeErr: (text) => void process.stderr.write(text),
  onSignal: (signal, fn) => void process.on(signal, fn),
  exitNow: (code) => process.exit(code),
  onFatal: (fn) => {
    onFatal = fn
  },
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return serveCommand(rest, io)
    case 'connect':
      return connectCommand(rest, io)
    case 'token':
      return tokenCommand(rest, io)
    case 'keys': {
      const env = configFromEnv(process.env)
      if (!env.ok) {
        io.err(formatConfigIssues(env.issues))
        return EXIT.usage
      }
      return keysCommand(rest, { dataDir: env.config.dataDir, stdin: process.stdin, out: io.out, err: io.err })
    }
    case 'ws-stdio':
      return wsStdioCommand(rest, { stdin: process.stdin, stdout: process.stdout, err: io.err, envToken: process.env.BURROW_TOKEN, env: process.env })
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      io.out(HELP)
      return EXIT.ok
    default:
      io.err(`burrow: unknown command "${command}"\n\n${HELP}`)
      return EXIT.usage
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof ConfigError) {
      console.error(formatConfigIssues(err.issues))
      process.exit(EXIT.usage)
    }
    fallback.error('fatal', errorFields(err))
    process.exit(EXIT.failure)
  },
)
