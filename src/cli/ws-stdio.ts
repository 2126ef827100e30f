import type { Readable, Writable } from 'node:stream'
import { parseCommand } from './args.ts'
import { EXIT } from './exit-codes.ts'
import { commandHelp, usageHint, type CommandHelp } from './help.ts'
import { tunnelUrl } from '../agent/tunnel-url.ts'
import { bridgeWsStdio } from '../agent/ws-stdio.ts'
import { readCaFile } from '../agent/tls-trust.ts'
import { checkProxyUrl, proxyFor } from '../agent/proxy.ts'

/** The streams and settings `ws-stdio` uses, passed in by cli.ts (the only place that touches `process`). */
export interface WsStdioIo {
  readonly stdin: Readable
  readonly stdout: Writable
  readonly err: (line: string) => void
  /** `BURROW_TOKEN` from the environment: keeps the token out of `ps` (argv is visible to every local user). */
  readonly envToken: string | undefined
  /** The environment, for HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY. */
  readonly env: Readonly<Record<string, string | undefined>>
}

export const WS_STDIO_HELP: CommandHelp = {
  synopsis: 'ws-stdio URL [--token T]',
  summary: "Bridge stdin/stdout to the gateway's /tunnel WebSocket: OpenSSH's ProxyCommand where only HTTP gets out.",
  options: [
    ['--token T', 'your token (or BURROW_TOKEN in the environment, which keeps it out of ps)'],
    ['--proxy URL', 'reach the gateway through this HTTP CONNECT proxy (default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, minus NO_PROXY)'],
    ['--ca FILE', "PEM certificate(s) to trust for an https gateway: its private CA, or its self-signed certificate"],
  ],
  notes: ["Example: ssh -o ProxyCommand='npx burrow ws-stdio https://gw.example.com' -N -R 80:localhost:3000 alice@gw"],
}

/** `burrow ws-stdio URL --token T`: returns the exit code once either side has closed. */
export async function wsStdioCommand(argv: string[], io: WsStdioIo): Promise<number> {
  const usage = (message: string) => {
    io.err(usageHint(WS_STDIO_HELP, message))
    return EXIT.usage
  }
  const parsed = parseCommand<{ token?: string; ca?: string; proxy?: string }>(argv, { token: { type: 'string' }, ca: { type: 'string' }, proxy: { type: 'string' } }, 1)
  if (parsed.kind === 'help') {
    io.stdout.write(commandHelp(WS_STDIO_HELP))
    return EXIT.ok
  }
  if (parsed.kind === 'usage') return usage(parsed.message)
  const { values, positionals } = parsed
  if (positionals.length !== 1) return usage('ws-stdio needs exactly one URL (the gateway, e.g. wss://gw.example.com/tunnel)')
  const url = tunnelUrl(positionals[0]!)
  if (!url.ok) return usage(`ws-stdio URL: ${url.message}`)
  const token = values.token ?? io.envToken
  if (token === undefined || token === '') return usage('ws-stdio needs --token T (or BURROW_TOKEN in the environment)')
  let ca: string | undefined
  try {
    ca = values.ca === undefined ? undefined : readCaFile(values.ca)
  } catch (err) {
    return usage((err as Error).message)
  }
  const proxy = proxyFor(url.url, io.env, values.proxy)
  if (proxy !== undefined) {
    const checked = checkProxyUrl(proxy)
    if (!checked.ok) return usage(`the proxy: ${checked.message}`)
  }
  const result = await bridgeWsStdio({ url: url.url, token, ca, proxy, input: io.stdin, output: io.stdout })
  if (result.message !== undefined) io.err(`burrow ws-stdio: ${result.message}`)
  return result.ok ? EXIT.ok : EXIT.failure
}
