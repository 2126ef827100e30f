import { CONFIG_VARIABLES, ConfigError, configFromEnv, formatConfigIssues } from '../config/index.ts'
import { DataDirError, TlsFilesError } from '../gateway/index.ts'
import { createGateway } from '../index.ts'
import { parseCommand } from './args.ts'
import { EXIT, EXIT_ON_SIGNAL } from './exit-codes.ts'
import { columns, commandHelp, usageHint, type CommandHelp } from './help.ts'
import type { CliIo } from './io.ts'
import { createLogger, errorFields } from '../log/logger.ts'

export const SERVE_HELP: CommandHelp = {
  synopsis: 'serve',
  summary: 'Run the gateway, configured by the environment (below). SIGTERM or SIGINT drains it; a second one exits at once.',
  notes: ['Environment:', columns([['VARIABLE', 'DEFAULT', 'MEANING'], ...CONFIG_VARIABLES.map((v) => [v.env, String(v.default), v.meaning])])],
}

/** `burrow serve`: resolves with the exit code once the gateway has drained (after a signal). */
export async function serveCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, {}, 0)
  if (parsed.kind === 'help') return help(io)
  if (parsed.kind === 'usage') return usage(io, parsed.message)
  const env = configFromEnv(io.env)
  if (!env.ok) {
    io.err(formatConfigIssues(env.issues))
    return EXIT.usage
  }
  const config = env.config
  // The gateway's logger is also the process's: signals and anything that escapes are events too.
  const log = createLogger(config.logLevel, undefined, config.logFormat)
  io.onFatal((kind, err) => log.error(kind, errorFields(err)))
  const gw = createGateway({ ...config, logger: log })
  let server
  try {
    server = await gw.listen()
  } catch (err) {
    if (err instanceof DataDirError || err instanceof ConfigError || err instanceof TlsFilesError) {
      io.err(`burrow: ${err.message}`)
      return EXIT.usage
    }
    io.err(`burrow: cannot start the gateway: ${(err as Error).message}`)
    return EXIT.failure
  }
  // Signals are handled before the banner says the gateway is up: a supervisor may stop it at once.
  const stopped = new Promise<number>((resolve) => {
    let signals = 0
    const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
      if (++signals > 1) {
        log.warn('shutdown_now', { signal, message: `second ${signal}, exiting now` })
        io.exitNow(EXIT_ON_SIGNAL[signal])
      }
      // At warn: from now on consumers get 503 draining, which an operator must see at any level.
      log.warn('shutdown_signal', { signal, graceMs: config.shutdownGracePeriod, message: `${signal} received, draining (up to ${config.shutdownGracePeriod} ms; send again to exit now)` })
      gw.stop().then(
        () => resolve(EXIT.ok),
        (err: Error) => {
          log.error('shutdown_failed', errorFields(err))
          resolve(EXIT.failure)
        },
      )
    }
    io.onSignal('SIGTERM', () => onSignal('SIGTERM'))
    io.onSignal('SIGINT', () => onSignal('SIGINT'))
  })
  const id = await gw.identity()
  // The address actually bound; a wildcard also gets the local address a browser can open.
  const wildcard = server.hostname === '0.0.0.0' || server.hostname === '::'
  const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname
  const scheme = id.tls === undefined ? 'http' : 'https'
  io.out(`Burrow gateway on ${scheme}://${host}:${server.port} (${gw.runtime})${wildcard ? `, all interfaces; locally ${scheme}://127.0.0.1:${server.port}` : ''}`)
  if (id.tls !== undefined) io.out(`  TLS:          ${id.tls.subject}${id.tls.subjectAltName === '' ? '' : ` (${id.tls.subjectAltName})`}, expires ${id.tls.validTo}`)
  io.out(`  SSH host key: ${id.hostKeyFingerprint}`)
  io.out(id.adminTokenPath !== undefined ? `  admin token:  in ${id.adminTokenPath}` : '  admin token:  from BURROW_ADMIN_TOKEN')
  io.out(`  data dir:     ${id.dataDir}`)
  if (gw.sshPort !== undefined) io.out(`  SSH listener: ${config.host}:${gw.sshPort} (stock OpenSSH: ssh -p ${gw.sshPort} -N -R 80:localhost:PORT USER@host)`)
  return stopped
}

function help(io: CliIo): number {
  io.out(commandHelp(SERVE_HELP))
  return EXIT.ok
}

function usage(io: CliIo, message: string): number {
  io.err(usageHint(SERVE_HELP, message))
  return EXIT.usage
}
