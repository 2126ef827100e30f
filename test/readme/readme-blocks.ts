/**
 * The shell commands of a README section, as a reader would type them: the ```sh blocks under a
 * `## ` heading (not its subsections), with backslash-continued lines joined, and comment-only and
 * blank lines left out. A comment at the end of a command stays: bash ignores it.
 */

/**
 * Commands of the ```sh blocks of the section headed `## <heading>` (its own text, up to the next
 * heading of any level), in order.
 */
export function sectionCommands(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n')
  const start = lines.findIndex((l) => l.startsWith('## ') && l.slice(3).trim().startsWith(heading))
  if (start < 0) throw new Error(`README has no "## ${heading}" section`)
  const commands: string[] = []
  let fence: 'none' | 'sh' | 'other' = 'none'
  let pending = ''
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('```')) {
      fence = fence !== 'none' ? 'none' : /^```(sh|bash|shell)\s*$/.test(line) ? 'sh' : 'other'
      continue
    }
    // A heading ends the section; inside a fence, `#` starts a shell comment instead.
    if (fence === 'none' && /^#{1,6} /.test(line)) break
    if (fence !== 'sh') continue
    const text = pending + line
    if (text.endsWith('\\')) {
      pending = text.slice(0, -1).trimEnd() + ' '
      continue
    }
    pending = ''
    const trimmed = text.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    commands.push(trimmed)
  }
  return commands
}
