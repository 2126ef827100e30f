import type { Readable, Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { tunnelUrl } from '../agent/tunnel-url.ts'
import { bridgeWsStdio } from '../agent/ws-stdio.ts'

/** The streams and settings `ws-stdio` uses, passed in by cli.ts (the only place that touches `process`). */
export interface WsStdioIo {
  readonly stdin: Readable
  readonly stdout: Writable
  readonly err: (line: string) => void
  /** `BURROW_TOKEN` from the environment: keeps the token out of `ps` (argv is visible to every local user). */
  readonly envToken: string | undefined
}

export const WS_STDIO_USAGE = `  burrow ws-stdio URL [--token T]    bridge stdin/stdout to the gateway's /tunnel WebSocket, for
                                     ssh -o ProxyCommand='burrow ws-stdio wss://gw/tunnel --token T'
                                     (or BURROW_TOKEN in the environment instead of --token)`

const EXIT_OK = 0
const EXIT_FAILURE = 1
const EXIT_USAGE = 2

/** `burrow ws-stdio URL --token T`: returns the exit code once either side has closed. */
export async function wsStdioCommand(argv: string[], io: WsStdioIo): Promise<number> {
  const usage = (message: string) => {
    io.err(`burrow: ${message}\n\nUsage:\n${WS_STDIO_USAGE}`)
    return EXIT_USAGE
  }
  const { values, positionals } = parseArgs({ args: argv, options: { token: { type: 'string' } }, allowPositionals: true, strict: true })
  if (positionals.length !== 1) return usage('ws-stdio needs exactly one URL (the gateway, e.g. wss://gw.example.com/tunnel)')
  const url = tunnelUrl(positionals[0]!)
  if (!url.ok) return usage(`ws-stdio URL: ${url.message}`)
  const token = values.token ?? io.envToken
  if (token === undefined || token === '') return usage('ws-stdio needs --token T (or BURROW_TOKEN in the environment)')
  const result = await bridgeWsStdio({ url: url.url, token, input: io.stdin, output: io.stdout })
  if (result.message !== undefined) io.err(`burrow ws-stdio: ${result.message}`)
  return result.ok ? EXIT_OK : EXIT_FAILURE
}
