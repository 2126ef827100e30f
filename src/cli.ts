#!/usr/bin/env bun
/**
 * `burrow serve | connect | token` — argv in, exit code out. With src/runtime/, the only place that
 * touches process signals and exits (STYLE §8).
 */
import { parseArgs } from 'node:util'
import { createAgent, type AgentStatus } from './agent/agent.ts'
import { KEYS_USAGE, keysCommand } from './cli/keys.ts'
import { WS_STDIO_USAGE, wsStdioCommand } from './cli/ws-stdio.ts'
import { parseTtl, signToken } from './auth/tokens.ts'
import { CONFIG_VARIABLES, ConfigError, configFromEnv, formatConfigIssues } from './config/index.ts'
import { TUNNEL_NAME } from './wire/index.ts'
import { createGateway } from './index.ts'
import { openDataDir } from './gateway/data-dir.ts'
import { createLogger } from './log/logger.ts'

const EXIT_OK = 0
const EXIT_FAILURE = 1
const EXIT_USAGE = 2

const USAGE = `Usage:
  burrow serve                       run the gateway (configured by environment, see below)
  burrow connect --server URL --token T --to URL [--connections N] [--public] [--fingerprint SHA256:...]
                 [--host-header rewrite|preserve|HOST]
                                     run an agent for the local service at --to; the service gets
                                     its own host:port as Host (rewrite, the default), the consumer's
                                     (preserve) or HOST; the public host is in X-Forwarded-Host
  burrow token USER [--ttl 30d]      print a token for USER signed with the gateway secret
${KEYS_USAGE}
${WS_STDIO_USAGE}
  burrow help                        this text
`

function usageError(message: string): never {
  console.error(`burrow: ${message}\n\n${USAGE}`)
  process.exit(EXIT_USAGE)
}

function envConfig() {
  const parsed = configFromEnv(process.env)
  if (!parsed.ok) {
    console.error(formatConfigIssues(parsed.issues))
    process.exit(EXIT_USAGE)
  }
  return parsed.config
}

async function serve(): Promise<void> {
  const config = envConfig()
  const gw = createGateway(config)
  const server = await gw.listen()
  const id = await gw.identity()
  const wildcard = server.hostname === '0.0.0.0' || server.hostname === '::'
  const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname
  console.log(`Burrow gateway on http://${host}:${server.port} (${gw.runtime})${wildcard ? ` on all interfaces; locally http://127.0.0.1:${server.port}` : ''}`)
  console.log(`  SSH host key: ${id.hostKeyFingerprint}`)
  console.log(id.adminTokenPath !== undefined ? `  admin token:  in ${id.adminTokenPath}` : '  admin token:  from BURROW_ADMIN_TOKEN')
  console.log(`  data dir:     ${id.dataDir}`)
  if (gw.sshPort !== undefined) console.log(`  SSH listener: ${config.host}:${gw.sshPort} (stock OpenSSH: ssh -p ${gw.sshPort} -N -R 80:localhost:PORT USER@host)`)
  let signals = 0
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    signals++
    if (signals > 1) {
      console.error(`burrow: second ${signal}, exiting now`)
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    console.error(`burrow: ${signal} received, draining (up to ${config.shutdownGracePeriod} ms; send again to exit now)`)
    gw.stop().then(
      () => process.exit(EXIT_OK),
      (err: Error) => {
        console.error(`burrow: shutdown failed: ${err.message}`)
        process.exit(EXIT_FAILURE)
      },
    )
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
}

function renderState(s: AgentStatus): string {
  return s.connected === s.wanted
    ? `connected (${s.connected}/${s.wanted})`
    : s.retryInMs !== undefined
      ? `reconnecting in ${(s.retryInMs / 1000).toFixed(1)} s (${s.connected}/${s.wanted} up${s.lastError ? `; ${s.lastError}` : ''})`
      : `connecting (${s.connected}/${s.wanted})`
}

function renderStatus(s: AgentStatus): string {
  return `burrow agent: ${renderState(s)} | requests served: ${s.served}`
}

// A busy tunnel serves thousands of requests a second: redrawing (or, off a terminal, logging a
// line) for each one cost a write per request. State changes show at once; a count that only
// grew shows at most this often.
const SERVED_REFRESH_MS = 1000

async function connect(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      to: { type: 'string' },
      connections: { type: 'string', default: '1' },
      public: { type: 'boolean', default: false },
      fingerprint: { type: 'string' },
      'host-header': { type: 'string', default: 'rewrite' },
    },
    strict: true,
  })
  if (values.server === undefined) usageError('connect needs --server URL (the gateway, e.g. https://gw.example.com)')
  if (values.token === undefined) usageError('connect needs --token T (from `burrow token USER` on the gateway)')
  if (values.to === undefined) usageError('connect needs --to URL (the local service, e.g. http://127.0.0.1:3000)')
  const connections = Number(values.connections)
  const keepalive = process.env.SSH_KEEPALIVE_INTERVAL === undefined ? 60_000 : Number(process.env.SSH_KEEPALIVE_INTERVAL)
  if (!Number.isInteger(keepalive) || keepalive < 10) usageError(`SSH_KEEPALIVE_INTERVAL: expected an integer of ms >= 10, received "${process.env.SSH_KEEPALIVE_INTERVAL}"`)
  const tty = process.stderr.isTTY === true
  let lastLine = ''
  let lastState = ''
  let refresh: ReturnType<typeof setTimeout> | undefined
  const print = (s: AgentStatus) => {
    const line = renderStatus(s)
    lastState = renderState(s)
    if (line === lastLine) return
    lastLine = line
    if (tty) process.stderr.write(`\r\x1b[K${line}`)
    else console.error(line)
  }
  const show = (s: AgentStatus) => {
    if (renderState(s) !== lastState) return print(s)
    refresh ??= setTimeout(() => {
      refresh = undefined
      print(agent.status())
    }, SERVED_REFRESH_MS)
  }
  let agent: ReturnType<typeof createAgent>
  try {
    agent = createAgent({
      server: values.server,
      token: values.token,
      to: values.to,
      connections,
      isPublic: values.public,
      fingerprint: values.fingerprint,
      hostHeader: values['host-header'],
      keepaliveInterval: keepalive,
      logger: createLogger((process.env.LOG_LEVEL as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'warn'),
      onStatus: show,
    })
  } catch (err) {
    usageError((err as Error).message)
  }
  // Keep the countdown moving on a terminal.
  const ticker = tty ? setInterval(() => show(agent.status()), 1000) : undefined
  const stop = () => agent.stop()
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  const result = await agent.done
  clearInterval(ticker)
  clearTimeout(refresh)
  print(agent.status())
  if (tty) process.stderr.write('\n')
  if (!result.ok) {
    console.error(`burrow: ${result.message}`)
    process.exit(EXIT_FAILURE)
  }
  process.exit(EXIT_OK)
}

async function token(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { ttl: { type: 'string', default: '30d' } }, allowPositionals: true, strict: true })
  const user = positionals[0]
  if (user === undefined || positionals.length > 1) usageError('token needs exactly one USER')
  if (!TUNNEL_NAME.test(user)) usageError(`USER "${user}" is not a valid tunnel name (lowercase letters, digits and inner dashes, up to 63)`)
  const ttl = parseTtl(values.ttl)
  if (ttl === undefined) usageError(`--ttl ${values.ttl}: expected a duration such as 90s, 15m, 12h or 30d`)
  const config = envConfig()
  const data = openDataDir(config.dataDir, { secret: config.secret, adminToken: config.adminToken })
  console.log(await signToken(data.secret, user, ttl))
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'serve':
        if (rest.includes('--help')) {
          console.log(USAGE + '\nEnvironment:\n' + CONFIG_VARIABLES.map((v) => `  ${v.env.padEnd(26)} ${String(v.default).padEnd(10)} ${v.meaning}`).join('\n'))
          return
        }
        return await serve()
      case 'connect':
        return await connect(rest)
      case 'token':
        return await token(rest)
      // keys and ws-stdio live in src/cli/; here they only get the process's streams and exit code.
      case 'keys': {
        const io = { dataDir: envConfig().dataDir, stdin: process.stdin, out: (l: string) => console.log(l), err: (l: string) => console.error(l) }
        process.exit(await keysCommand(rest, io))
      }
      case 'ws-stdio': {
        const io = { stdin: process.stdin, stdout: process.stdout, err: (l: string) => console.error(l), envToken: process.env.BURROW_TOKEN }
        process.exit(await wsStdioCommand(rest, io))
      }
      case 'help':
      case '--help':
      case '-h':
      case undefined:
        console.log(USAGE)
        return
      default:
        usageError(`unknown command "${command}"`)
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(formatConfigIssues(err.issues))
      process.exit(EXIT_USAGE)
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) usageError((err as Error).message)
    console.error(`burrow: ${(err as Error).stack ?? err}`)
    process.exit(EXIT_FAILURE)
  }
}

await main(process.argv.slice(2))
