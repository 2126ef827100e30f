import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { CommandHelp } from './help.ts'

type Options = NonNullable<ParseArgsConfig['options']>

/** A command line read against `help.options`, or why it cannot be, or a request for help. */
export type Parsed<V> = { kind: 'ok'; values: V; positionals: string[] } | { kind: 'help' } | { kind: 'usage'; message: string }

/**
 * Read `argv` with node:util's parseArgs (all three runtimes have it), strictly: an unknown flag,
 * a missing value or an unexpected positional is a usage error (exit 2), never ignored. `--help`
 * and `-h` always ask for the command's help (exit 0).
 */
export function parseCommand<V>(argv: string[], options: Options, maxPositionals: number): Parsed<V> {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: maxPositionals > 0, strict: true })
    if (positionals.length > maxPositionals) return { kind: 'usage', message: `unexpected argument "${positionals[maxPositionals]}"` }
    return { kind: 'ok', values: values as V, positionals }
  } catch (err) {
    return { kind: 'usage', message: (err as Error).message.replace(/\. To specify a positional argument.*$/s, '') }
  }
}

export type { CommandHelp }
