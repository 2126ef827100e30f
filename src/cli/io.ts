import type { Readable, Writable } from 'node:stream'

/**
 * What a command may touch of its process, handed in by the entry point (src/cli.ts, the one
 * place that reads `process`): the environment, the streams, signals.
 */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdin: Readable
  readonly stdout: Writable
  /** A line on stdout. */
  out(line: string): void
  /** A line on stderr. */
  err(line: string): void
  /** stderr is a terminal (status lines redraw in place then). */
  readonly stderrIsTTY: boolean
  /** Raw text on stderr (a status line's redraw). */
  writeErr(text: string): void
  /** Run `fn` on every SIGTERM / SIGINT. */
  onSignal(signal: 'SIGTERM' | 'SIGINT', fn: () => void): void
  /** Leave now with `code` (a second signal during a drain). */
  exitNow(code: number): never
  /**
   * From now on, an exception nobody caught or a promise rejection nobody handled goes to `fn`
   * (one log event) instead of the runtime's own multi-line print, and the process keeps running.
   * Before a command calls this, they become one JSON `error` line (src/cli.ts).
   */
  onFatal(fn: (kind: FatalKind, err: unknown) => void): void
}

/** What escaped: a thrown exception, or a rejected promise without a handler. */
export type FatalKind = 'uncaught_exception' | 'unhandled_rejection'
