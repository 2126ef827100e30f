/** How a command describes itself for `--help` and the overview. */
export interface CommandHelp {
  /** `connect --server URL --token T --to URL [options]` (without `burrow `). */
  readonly synopsis: string
  readonly summary: string
  /** `[flag, meaning]` rows, aligned when printed. */
  readonly options?: readonly (readonly [string, string])[]
  /** Lines after the options (environment, examples). */
  readonly notes?: readonly string[]
}

const INDENT = '  '

/** Rows of columns, each column aligned after the widest cell of the one before. */
export function columns(rows: readonly (readonly string[])[], indent = INDENT): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')
}

/** What a usage error prints: the problem, the synopsis, and where the whole help is. */
export function usageHint(help: CommandHelp, message: string): string {
  const command = help.synopsis.split(' ')[0]
  return `burrow ${command}: ${message}\nUsage: burrow ${help.synopsis}\n(burrow ${command} --help for more)`
}

/** One command's `--help` text. */
export function commandHelp(help: CommandHelp): string {
  const parts = [`Usage: burrow ${help.synopsis}`, '', help.summary]
  if (help.options !== undefined && help.options.length > 0) parts.push('', 'Options:', columns(help.options))
  if (help.notes !== undefined) parts.push('', ...help.notes)
  return parts.join('\n') + '\n'
}

/** The overview `burrow help` prints: every command's synopsis and summary, aligned. */
export function overview(commands: readonly CommandHelp[]): string {
  return ['Usage: burrow COMMAND [options]   (burrow COMMAND --help for more)', '', columns(commands.map((c) => [c.synopsis, c.summary]))].join('\n') + '\n'
}
