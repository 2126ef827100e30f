/**
 * Dot segments as a browser sees them in an http(s) URL path (WHATWG URL "path state"), found and
 * removed without re-encoding anything else. The proxy needs this before it puts a path under a
 * tunnel's prefix: `/t/alice/` + `../bob/` would otherwise resolve outside the prefix.
 *
 * The browser's view is wider than RFC 3986's: `%2e` counts as a dot (any case), `\` separates
 * segments like `/` in special schemes, and tabs and newlines are removed from the whole URL
 * before parsing, so `.\t.` is `..`.
 */

const SINGLE = new Set(['.', '%2e'])
const DOUBLE = new Set(['..', '.%2e', '%2e.', '%2e%2e'])

function view(segment: string): string {
  return segment.replace(/[\t\n\r]/g, '').toLowerCase()
}

/** Whether `path` (a path only: no query, no fragment) has a segment a browser reads as `.` or `..`. */
export function hasDotSegment(path: string): boolean {
  // Cheap exit: no `.` and no `%2e`, even with tabs or newlines between their characters.
  if (!/[.%]/.test(path)) return false
  for (const s of path.split(/[/\\]/)) {
    const v = view(s)
    if (SINGLE.has(v) || DOUBLE.has(v)) return true
  }
  return false
}

/**
 * `path` (starting with `/` or `\`) with its dot segments resolved the way a browser resolves them
 * (RFC 3986 §5.2.4, WHATWG URL path state): `/a/../b` → `/b`, `/..` → `/`, `/a/.` → `/a/`. Other
 * segments are kept byte for byte; separators come out as `/`. Never goes above the root.
 */
export function removeDotSegments(path: string): string {
  const segments = path.split(/[/\\]/).slice(1)
  const out: string[] = []
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    const v = view(s)
    const last = i === segments.length - 1
    if (DOUBLE.has(v)) {
      out.pop()
      if (last) out.push('')
    } else if (SINGLE.has(v)) {
      if (last) out.push('')
    } else out.push(s)
  }
  return '/' + out.join('/')
}
