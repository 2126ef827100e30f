import { createAgent } from '../agent/agent.ts'
import { readCaFile } from '../agent/tls-trust.ts'
import { agentSettingsFromEnv, formatConfigIssues } from '../config/index.ts'
import { createLogger, errorFields } from '../log/logger.ts'
import { FINGERPRINT } from '../wire/index.ts'
import { parseCommand } from './args.ts'
import { EXIT } from './exit-codes.ts'
import { commandHelp, usageHint, type CommandHelp } from './help.ts'
import type { CliIo } from './io.ts'
import { StatusLine } from './status-line.ts'

export const CONNECT_HELP: CommandHelp = {
  synopsis: 'connect --server URL --token T --to URL [options]',
  summary: 'Run an agent: dial out to the gateway and carry its requests to the local service at --to.',
  options: [
    ['--server URL', "the gateway: https://gw.example.com (with its mount prefix, if any); /tunnel is added. Several instances: URL1,URL2,… (connections spread over them)"],
    ['--token T', 'your token, from `burrow token USER` on the gateway'],
    ['--to URL', 'the local service: http://127.0.0.1:11434, 127.0.0.1:3000, or a port'],
    ['--connections N', 'parallel connections to keep, 1 to 3 (default 1)'],
    ['--public', 'consumers reach the tunnel without a token'],
    ['--fingerprint SHA256:…', "pin the gateway's SSH host key (burrow serve prints it)"],
    ['--ca FILE', "PEM certificate(s) to trust for an https gateway: its private CA, or its self-signed certificate"],
    ['--host-header MODE', 'Host the service gets: rewrite (its own host:port, default), preserve, or HOST[:PORT]'],
  ],
  notes: ['Environment: SSH_KEEPALIVE_INTERVAL (ms between keep-alives, default 60000), LOG_LEVEL (default warn), LOG_FORMAT (json or pretty).'],
}

interface ConnectFlags {
  server?: string
  token?: string
  to?: string
  connections?: string
  public?: boolean
  fingerprint?: string
  ca?: string
  'host-header'?: string
}

const FLAGS = {
  server: { type: 'string' },
  token: { type: 'string' },
  to: { type: 'string' },
  connections: { type: 'string' },
  public: { type: 'boolean' },
  fingerprint: { type: 'string' },
  ca: { type: 'string' },
  'host-header': { type: 'string' },
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
  if (f.token === undefined) return usage(io, 'connect needs --token T (from `burrow token USER` on the gateway)')
  if (f.to === undefined) return usage(io, 'connect needs --to URL (the local service, e.g. http://127.0.0.1:3000)')
  const connections = Number(f.connections ?? '1')
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
  let agent: ReturnType<typeof createAgent>
  // One logger for the agent and the process: what escapes becomes one event, not a stack trace.
  const log = createLogger(settings.config.logLevel, undefined, settings.config.logFormat)
  io.onFatal((kind, err) => log.error(kind, errorFields(err)))
  const status = new StatusLine((t) => io.writeErr(t), io.stderrIsTTY, () => agent.status(), settings.config.logFormat === 'json' ? 'json' : 'text')
  try {
    agent = createAgent({
      server: f.server,
      token: f.token,
      to: f.to,
      connections,
      isPublic: f.public ?? false,
      fingerprint,
      ca,
      hostHeader: f['host-header'],
      keepaliveInterval: settings.config.keepaliveInterval,
      logger: log,
      onStatus: (s) => status.show(s),
    })
  } catch (err) {
    return usage(io, (err as Error).message)
  }
  // Keep a countdown moving on a terminal.
  const ticker = io.stderrIsTTY ? setInterval(() => status.show(agent.status()), 1000) : undefined
  io.onSignal('SIGTERM', () => agent.stop())
  io.onSignal('SIGINT', () => agent.stop())
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
