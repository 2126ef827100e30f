import * as v from 'valibot'
import { convertEnv, readEnv } from './env.ts'
import { keyOfIssue, onePerKey, renderReceived, type ConfigIssue, type ConfigResult } from './issues.ts'
import { ConfigSchema, expectedFor, SSH_PORT_CLASH, TLS_PAIR, type Config, type ConfigKey, type GatewayOptions } from './schema.ts'
import { envNameOf } from './variables.ts'

/**
 * Parse an env record into a Config, or report every issue at once. Empty strings count as unset;
 * variables Burrow does not know are ignored.
 * @example configFromEnv({ PORT: '0', LOG_LEVEL: 'debug' }) // { ok: true, config: { port: 0, … } }
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigResult<Config> {
  const raw = readEnv(env)
  const { options, issues } = convertEnv(raw)
  return validate(options, issues, envNameOf, (key) => raw[key])
}

/**
 * Validate options given in code with the same constraints and defaults as the env.
 * @example configFromOptions({ port: -1 }) // { ok: false, issues: [{ variable: 'port', received: '-1', … }] }
 */
export function configFromOptions(options: GatewayOptions = {}): ConfigResult<Config> {
  // A JS caller can pass anything; say so plainly rather than as an issue on every field.
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const received = renderReceived(undefined, options)
    return { ok: false, issues: [{ variable: 'options', received, expected: 'an object of options' }] }
  }
  const given: Readonly<Record<string, unknown>> = options
  return validate(options, new Map(), (key) => key, (key) => given[key])
}

function validate(
  input: Record<string, unknown>,
  earlier: ReadonlyMap<ConfigKey, ConfigIssue>,
  nameOf: (key: ConfigKey) => string,
  receivedOf: (key: ConfigKey) => unknown,
): ConfigResult<Config> {
  const result = v.safeParse(ConfigSchema, input, { abortEarly: false })
  if (result.success && earlier.size === 0) return { ok: true, config: result.output }
  const issues = new Map(earlier)
  for (const issue of result.issues ?? []) {
    const key = keyOfIssue(issue)
    if (key === undefined || issues.has(key)) continue
    issues.set(key, {
      variable: nameOf(key),
      received: renderReceived(key, receivedOf(key)),
      expected: issue.message === SSH_PORT_CLASH || issue.message === TLS_PAIR ? issue.message : expectedFor(key),
    })
  }
  return { ok: false, issues: onePerKey(issues) }
}
