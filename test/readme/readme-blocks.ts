/**
 * The shell commands of a README section, as a reader would type them: the ```sh blocks under a
 * `## ` heading, with backslash-continued lines joined and comment-only and blank lines left out.
 * A comment at the end of a command stays: bash ignores it.
 */

/** Commands of the ```sh blocks between `## <heading>` and the next `## `, in order. */
export function sectionCommands(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n')
  const start = lines.findIndex((l) => l.startsWith('## ') && l.slice(3).trim().startsWith(heading))
  if (start < 0) throw new Error(`README has no "## ${heading}" section`)
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '))
  const section = lines.slice(start + 1, end < 0 ? undefined : end)
  const commands: string[] = []
  let inSh = false
  let pending = ''
  for (const line of section) {
    if (line.startsWith('```')) {
      inSh = !inSh && /^```(sh|bash|shell)\s*$/.test(line)
      continue
    }
    if (!inSh) continue
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
