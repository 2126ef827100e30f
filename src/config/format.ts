import type { ConfigIssue } from './issues.ts'

/**
 * Human text for refused configuration: a headline, then one line per issue.
 * @example formatConfigIssues(issues) // 'Cannot start: invalid configuration (1 issue)\n  PORT: expected an integer from 0 to 65535, received "70000"'
 */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  const count = `${issues.length} ${issues.length === 1 ? 'issue' : 'issues'}`
  const lines = issues.map(
    ({ variable, expected, received }) => `  ${variable}: expected ${expected}, received ${JSON.stringify(received)}`,
  )
  return [`Cannot start: invalid configuration (${count})`, ...lines].join('\n')
}

/** Thrown by `createGateway()` for bad options; `issues` is the data, `message` the same as text. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    super(formatConfigIssues(issues))
    this.issues = issues
  }
}
