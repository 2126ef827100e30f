#!/usr/bin/env bun
/**
 * `burrow serve | connect | token | keys | ws-stdio`: argv in, exit code out. With src/runtime/,
 * the only place that touches the process (its environment, streams, signals and exit); each
 * command lives in src/cli/ and gets what it may touch as a CliIo.
 */
import { ConfigError, formatConfigIssues } from './config/index.ts'
import { configFromEnv } from './config/index.ts'
import { EXIT } from './cli/exit-codes.ts'
import { overview } from './cli/help.ts'
import type { CliIo, FatalKind } from './cli/io.ts'
import { createLogger, errorFields } from './log/logger.ts'

// Each command is loaded when it runs: an agent does not load the gateway (and its Redis client),
// nor a gateway the agent's modules (docs/BENCHMARKS.md, "Start-up").
const serve = () => import('./cli/serve.ts')
const connect = () => import('./cli/connect.ts')
const token = () => import('./cli/token.ts')
const keys = () => import('./cli/keys.ts')
const wsStdio = () => import('./cli/ws-stdio.ts')

/** The overview: every command's synopsis and summary (loads them all, only for this text). */
async function helpText(): Promise<string> {
  const [s, c, t, k, w] = await Promise.all([serve(), connect(), token(), keys(), wsStdio()])
  return overview([s.SERVE_HELP, c.CONNECT_HELP, t.TOKEN_HELP, k.KEYS_HELP, w.WS_STDIO_HELP, { synopsis: 'help', summary: 'this text' }])
}

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
      return (await serve()).serveCommand(rest, io)
    case 'connect':
      return (await connect()).connectCommand(rest, io)
    case 'token':
      return (await token()).tokenCommand(rest, io)
    case 'keys': {
      const env = configFromEnv(process.env)
      if (!env.ok) {
        io.err(formatConfigIssues(env.issues))
        return EXIT.usage
      }
      return (await keys()).keysCommand(rest, { dataDir: env.config.dataDir, stdin: process.stdin, out: io.out, err: io.err })
    }
    case 'ws-stdio':
      return (await wsStdio()).wsStdioCommand(rest, { stdin: process.stdin, stdout: process.stdout, err: io.err, envToken: process.env.BURROW_TOKEN, env: process.env })
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      io.out(await helpText())
      return EXIT.ok
    default:
      io.err(`burrow: unknown command "${command}"\n\n${await helpText()}`)
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
