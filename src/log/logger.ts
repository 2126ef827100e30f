export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** `json`: one JSON object per line (machines, the default); `pretty`: one aligned text line (people at a terminal). */
export type LogFormat = 'json' | 'pretty'

export type LogFields = Record<string, unknown>

/** Structured logger: one line per event with a stable `event` name. */
export interface Logger {
  debug(event: string, fields?: LogFields): void
  info(event: string, fields?: LogFields): void
  warn(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
  enabled(level: LogLevel): boolean
}

/**
 * A logger writing one line per event to `sink` (default: stderr through console.error): a JSON
 * object `{time, level, event, ...fields}` or, with `format` 'pretty', `12:03:04.567 WARN  event
 * key=value …`. Hand-written on purpose: pino costs about as much per line on Bun and LogTape
 * 2–3× as much, and neither brings anything Burrow uses (docs/STACK-FINDINGS.md, "Logging").
 */
export function createLogger(level: LogLevel, sink: (line: string) => void = (l) => console.error(l), format: LogFormat = 'json'): Logger {
  const min = RANK[level]
  const render = format === 'pretty' ? prettyLine : jsonLine
  const write = (lvl: LogLevel, event: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return
    sink(render(lvl, event, fields))
  }
  return {
    debug: (e, f) => write('debug', e, f),
    info: (e, f) => write('info', e, f),
    warn: (e, f) => write('warn', e, f),
    error: (e, f) => write('error', e, f),
    enabled: (lvl) => RANK[lvl] >= min,
  }
}

function jsonLine(level: LogLevel, event: string, fields: LogFields | undefined): string {
  // No replacer: it would run for every key of every line. Callers pass strings, not Errors.
  return JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })
}

/** For the pretty format: an Error becomes its name, message and stack; a bigint a string. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  if (typeof value === 'bigint') return value.toString()
  return value
}

function prettyLine(level: LogLevel, event: string, fields: LogFields | undefined): string {
  let line = `${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${event}`
  if (fields !== undefined) {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue
      // Strings are quoted when they have spaces, quotes or control characters, other values are
      // JSON (which escapes newlines): either way a line stays one line.
      if (typeof value !== 'string') line += ` ${key}=${JSON.stringify(value, jsonSafe)}`
      else line += ` ${key}=${/^[^\s"=\\\x00-\x1f\x7f]+$/.test(value) ? value : JSON.stringify(value)}`
    }
  }
  return line
}

/**
 * The fields a log line gets for something thrown (an Error or anything else): `message`, and
 * `stack` when there is one (JSON escapes its newlines, so the line stays one line).
 */
export function errorFields(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return err.stack === undefined ? { message: err.message } : { message: err.message, stack: err.stack }
  return { message: String(err) }
}

/** A logger that drops everything (tests, embedding without logs). */
export const silentLogger: Logger = createLogger('error', () => {})
