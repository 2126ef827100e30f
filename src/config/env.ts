import * as v from 'valibot'
import { CONFIG_KEYS, expectedFor, type ConfigKey } from './schema.ts'
import { keyOfIssue, renderReceived, type ConfigIssue } from './issues.ts'
import { VARIABLE_SPECS, type EnvKind } from './variables.ts'

/** Env strings → typed option values. Range and format checks are the schema's, not these. */
const FROM_ENV = {
  // Plain decimal digits only: Number() would also accept '1e3', '0x1F', '3.5' and '-1'.
  integer: v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number)),
  boolean: v.pipe(
    v.string(),
    v.toLowerCase(),
    v.picklist(['1', '0', 'true', 'false']),
    v.transform((value) => value === '1' || value === 'true'),
    v.description('one of 1, 0, true, false'),
  ),
  keyword: v.pipe(v.string(), v.toLowerCase()),
  text: v.string(),
} satisfies Record<EnvKind, v.GenericSchema<string, unknown>>

const EnvSchema = v.object(
  Object.fromEntries(CONFIG_KEYS.map((key) => [key, v.optional(FROM_ENV[VARIABLE_SPECS[key].kind])])),
)

/** The config variables that are set, by option name: trimmed, and an empty string counts as unset. */
export function readEnv(env: Readonly<Record<string, string | undefined>>): Partial<Record<ConfigKey, string>> {
  const set: Partial<Record<ConfigKey, string>> = {}
  for (const key of CONFIG_KEYS) {
    const value = env[VARIABLE_SPECS[key].env]?.trim()
    if (value) set[key] = value
  }
  return set
}

/**
 * Convert the set variables to option values. A variable that cannot be converted becomes an
 * issue and is left out of `options`, so the schema neither reports it twice nor defaults it.
 */
export function convertEnv(raw: Partial<Record<ConfigKey, string>>): {
  options: Record<string, unknown>
  issues: Map<ConfigKey, ConfigIssue>
} {
  const result = v.safeParse(EnvSchema, raw, { abortEarly: false })
  const options: Record<string, unknown> = Object.assign({}, result.output)
  const issues = new Map<ConfigKey, ConfigIssue>()
  for (const issue of result.issues ?? []) {
    const key = keyOfIssue(issue)
    if (key === undefined || issues.has(key)) continue
    const { env, kind } = VARIABLE_SPECS[key]
    delete options[key]
    issues.set(key, {
      variable: env,
      received: renderReceived(key, raw[key]),
      expected: v.getDescription(FROM_ENV[kind]) ?? expectedFor(key),
    })
  }
  return { options, issues }
}
