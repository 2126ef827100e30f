export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export type LogFields = Record<string, unknown>

/** Structured logger: one JSON object per line with a stable `event` name. */
export interface Logger {
  debug(event: string, fields?: LogFields): void
  info(event: string, fields?: LogFields): void
  warn(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
  enabled(level: LogLevel): boolean
}

/** A logger writing JSON lines to `sink` (default: stderr through console.error). */
export function createLogger(level: LogLevel, sink: (line: string) => void = (l) => console.error(l)): Logger {
  const min = RANK[level]
  const write = (lvl: LogLevel, event: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, event, ...fields }))
  }
  return {
    debug: (e, f) => write('debug', e, f),
    info: (e, f) => write('info', e, f),
    warn: (e, f) => write('warn', e, f),
    error: (e, f) => write('error', e, f),
    enabled: (lvl) => RANK[lvl] >= min,
  }
}

/** A logger that drops everything (tests, embedding without logs). */
export const silentLogger: Logger = createLogger('error', () => {})
