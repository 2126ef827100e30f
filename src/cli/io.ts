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
}
