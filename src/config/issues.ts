import type * as v from 'valibot'
import { CONFIG_KEYS, isConfigKey, type ConfigKey } from './schema.ts'
import { VARIABLE_SPECS } from './variables.ts'

/** One refused setting, e.g. `{ variable: 'PORT', received: '70000', expected: 'an integer from 0 to 65535' }`. */
export interface ConfigIssue {
  /** The env name (`PORT`) when read from env, the option name (`port`) when given in code. */
  readonly variable: string
  /** The value as given (trimmed env string, or the option rendered as text); credentials are hidden. */
  readonly received: string
  readonly expected: string
}

export type ConfigResult<T> =
  | { readonly ok: true; readonly config: T }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] }

/** Long values are cut: the issue has to fit on a terminal line. */
const MAX_RECEIVED = 80

/** Text for a received value. Credentials show only their length: issues end up in logs. */
export function renderReceived(key: ConfigKey | undefined, value: unknown): string {
  if (key !== undefined && VARIABLE_SPECS[key].sensitive) {
    return typeof value === 'string' ? `(hidden, ${value.length} characters)` : `(hidden ${typeOf(value)})`
  }
  const text = typeof value === 'string' ? value : renderNonString(value)
  return text.length > MAX_RECEIVED ? text.slice(0, MAX_RECEIVED - 1) + '…' : text
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

function renderNonString(value: unknown): string {
  // A cross-field check can name a variable that was not set at all.
  if (value === undefined) return '(unset)'
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value) ?? typeOf(value)
    } catch {
      return typeOf(value)
    }
  }
  return String(value)
}

/** The Config key a valibot issue is about (its first path segment), if any. */
export function keyOfIssue(issue: v.BaseIssue<unknown>): ConfigKey | undefined {
  const key: unknown = issue.path?.[0]?.key
  return isConfigKey(key) ? key : undefined
}

/** At most one issue per key (a value can fail several checks of one field), in documented order. */
export function onePerKey(issues: ReadonlyMap<ConfigKey, ConfigIssue>): ConfigIssue[] {
  return CONFIG_KEYS.flatMap((key) => {
    const issue = issues.get(key)
    return issue === undefined ? [] : [issue]
  })
}
