import { readFileSync } from 'node:fs'
import { createAgent } from '../agent/agent.ts'
import { readCaFile } from '../agent/tls-trust.ts'
import { proxyFor } from '../agent/proxy.ts'
import { tunnelUrl } from '../agent/tunnel-url.ts'
import { agentSettingsFromEnv, formatConfigIssues } from '../config/index.ts'
import { createLogger, errorFields } from '../log/logger.ts'
import { FINGERPRINT } from '../wire/index.ts'
import { parseCommand } from './args.ts'
import { EXIT, EXIT_ON_SIGNAL } from './exit-codes.ts'
import { commandHelp, usageHint, type CommandHelp } from './help.ts'
import type { CliIo } from './io.ts'
import { StatusLine } from './status-line.ts'

export const CONNECT_HELP: CommandHelp = {
  synopsis: 'connect --server URL (--token T | --token-file FILE) --to URL [options]',
  summary: 'Run an agent: dial out to the gateway and carry its requests to the local service at --to.',
  options: [
    ['--server URL', "the gateway: https://gw.example.com (with its mount prefix, if any); /tunnel is added. Several instances: URL1,URL2,… (connections spread over them)"],
    ['--token T', 'your token, from `burrow token USER` on the gateway'],
    ['--token-file FILE', 'read the token from FILE, again before every reconnect: replace the file to rotate it'],
    ['--to URL', 'the local service: http://127.0.0.1:11434, 127.0.0.1:3000, or a port (no path: each request keeps its own)'],
    ['--connections auto|N', 'auto (default): start with 1, add more while busy, up to your limit; or keep N, 1 to 3'],
    ['--public', 'consumers reach the tunnel without a token'],
    ['--fingerprint SHA256:…', "pin the gateway's SSH host key (burrow serve prints it)"],
    ['--ca FILE', "PEM certificate(s) to trust for an https gateway: its private CA, or its self-signed certificate"],
    ['--proxy URL', 'reach the gateway through this HTTP CONNECT proxy, http://[user:pass@]HOST:PORT (default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, minus NO_PROXY)'],
    ['--grace S', 'on SIGTERM/SIGINT: stop taking requests and let those in flight finish for up to S seconds (default 10); a second signal exits at once'],
    ['--host-header MODE', 'Host the service gets: rewrite (its own host:port, default), preserve, or HOST[:PORT]'],
  ],
  notes: ['Environment: SSH_KEEPALIVE_INTERVAL (ms between keep-alives, default 60000), LOG_LEVEL (default warn), LOG_FORMAT (json or pretty).'],
}

interface ConnectFlags {
  server?: string
  token?: string
  'token-file'?: string
  to?: string
  connections?: string
  public?: boolean
  fingerprint?: string
  ca?: string
  'host-header'?: string
  proxy?: string
  grace?: string
}

const FLAGS = {
  server: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  to: { type: 'string' },
  connections: { type: 'string' },
  public: { type: 'boolean' },
  fingerprint: { type: 'string' },
  ca: { type: 'string' },
  'host-header': { type: 'string' },
  proxy: { type: 'string' },
  grace: { type: 'string' },
} as const

/** `burrow connect`: runs until the agent stops (a signal) or gives up; returns the exit code. */
export async function connectCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand<ConnectFlags>(argv, FLAGS, 0)
  if (parsed.kind === 'help') {
    io.out(commandHelp(CONNECT_HELP))
    return EXIT.ok
  }
  if (parsed.kind === 'usage') return usage(io, parsed.message)
  const f = parsed.values
  if (f.server === undefined) return usage(io, 'connect needs --server URL (the gateway, e.g. https://gw.example.com)')
  if (f.token !== undefined && f['token-file'] !== undefined) return usage(io, 'connect takes --token or --token-file, not both')
  const tokenFile = f['token-file']
  const readToken = tokenFile === undefined ? undefined : () => readTokenFile(tokenFile)
  let token = f.token
  if (readToken !== undefined) {
    const first = readToken()
    if (!first.ok) return usage(io, first.message)
    token = first.token
  }
  if (token === undefined) return usage(io, 'connect needs --token T or --token-file FILE (from `burrow token USER` on the gateway)')
  if (f.to === undefined) return usage(io, 'connect needs --to URL (the local service, e.g. http://127.0.0.1:3000)')
  const grace = f.grace === undefined ? 10 : /^\d+(\.\d+)?$/.test(f.grace) ? Number(f.grace) : Number.NaN
  if (Number.isNaN(grace)) return usage(io, `--grace ${f.grace}: expected seconds, e.g. 10 (0 stops at once)`)
  const connections = f.connections === undefined || f.connections === 'auto' ? 'auto' : /^\d+$/.test(f.connections) ? Number(f.connections) : Number.NaN
  if (Number.isNaN(connections)) return usage(io, `--connections ${f.connections}: expected auto, 1, 2 or 3`)
  let fingerprint = f.fingerprint
  if (fingerprint !== undefined) {
    if (!fingerprint.startsWith('SHA256:')) fingerprint = `SHA256:${fingerprint}`
    if (!FINGERPRINT.test(fingerprint)) return usage(io, `--fingerprint ${f.fingerprint}: expected SHA256: and 43 base64 characters, as burrow serve prints it`)
  }
  let ca: string | undefined
  try {
    ca = f.ca === undefined ? undefined : readCaFile(f.ca)
  } catch (err) {
    return usage(io, (err as Error).message)
  }
  const settings = agentSettingsFromEnv(io.env)
  if (!settings.ok) {
    io.err(formatConfigIssues(settings.issues))
    return EXIT.usage
  }
  const dialled = tunnelUrl(f.server)
  const proxy = dialled.ok ? proxyFor(dialled.url, io.env, f.proxy) : undefined
  let agent: ReturnType<typeof createAgent>
  // One logger for the agent and the process: what escapes becomes one event, not a stack trace.
  const log = createLogger(settings.config.logLevel, undefined, settings.config.logFormat)
  io.onFatal((kind, err) => log.error(kind, errorFields(err)))
  const status = new StatusLine((t) => io.writeErr(t), io.stderrIsTTY, () => agent.status(), settings.config.logFormat === 'json' ? 'json' : 'text')
  try {
    agent = createAgent({
      server: f.server,
      token,
      readToken,
      // Off a terminal with JSON logs, the agent_token_expiring event (with this text) says it: stderr
      // stays one JSON object per line.
      onNotice: (text) => {
        if (io.stderrIsTTY || settings.config.logFormat !== 'json') io.err(`burrow agent: ${text}`)
      },
      to: f.to,
      connections,
      isPublic: f.public ?? false,
      fingerprint,
      ca,
      hostHeader: f['host-header'],
      proxy,
      keepaliveInterval: settings.config.keepaliveInterval,
      logger: log,
      onStatus: (s) => status.show(s),
    })
  } catch (err) {
    return usage(io, (err as Error).message)
  }
  // Keep a countdown moving on a terminal.
  const ticker = io.stderrIsTTY ? setInterval(() => status.show(agent.status()), 1000) : undefined
  let signalled = false
  // On a terminal or with pretty logs a line for people; otherwise a shutdown_signal event (with
  // the same text), as the gateway writes: stderr stays one JSON object per line.
  const tell = (signal: 'SIGTERM' | 'SIGINT', text: string, fields: Record<string, unknown>) => {
    if (io.stderrIsTTY || settings.config.logFormat !== 'json') io.err(`burrow agent: ${text}`)
    else log.warn('shutdown_signal', { signal, ...fields, message: text })
  }
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (signalled) {
      tell(signal, `second ${signal}, exiting now`, { second: true })
      return io.exitNow(EXIT_ON_SIGNAL[signal])
    }
    signalled = true
    agent.stop(grace * 1000)
    const inFlight = agent.status().inFlight ?? 0
    tell(signal, `${signal} received, stopping: forwards cancelled; waiting up to ${grace} s for ${inFlight} in flight (send again to exit now)`, { graceMs: grace * 1000, inFlight })
  }
  io.onSignal('SIGTERM', () => onSignal('SIGTERM'))
  io.onSignal('SIGINT', () => onSignal('SIGINT'))
  const result = await agent.done
  clearInterval(ticker)
  status.finish()
  if (!result.ok) {
    log.error('agent_failed', { message: result.message })
    return EXIT.failure
  }
  return EXIT.ok
}

function usage(io: CliIo, message: string): number {
  io.err(usageHint(CONNECT_HELP, message))
  return EXIT.usage
}

/** The token in FILE (surrounding whitespace dropped), or why it cannot be read. */
function readTokenFile(file: string): { ok: true; token: string } | { ok: false; message: string } {
  try {
    const token = readFileSync(file, 'utf8').trim()
    return token === '' ? { ok: false, message: `--token-file ${file} is empty` } : { ok: true, token }
  } catch (err) {
    return { ok: false, message: `cannot read --token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }
  }
}
