import * as v from 'valibot'
import type { ConfigIssue, ConfigResult } from './issues.ts'
import { LOG_FORMATS, LOG_LEVELS } from './schema.ts'

/** What an agent (`burrow connect`) reads from its environment. */
export interface AgentSettings {
  /** ms between SSH keep-alives towards the gateway; after 3 unanswered the gateway counts as gone. */
  readonly keepaliveInterval: number
  readonly logLevel: (typeof LOG_LEVELS)[number]
  /** `json` (default) or `pretty`, as the gateway's LOG_FORMAT. */
  readonly logFormat: (typeof LOG_FORMATS)[number]
}

const MAX_TIMER_MS = 2_147_483_647

const FIELDS = {
  SSH_KEEPALIVE_INTERVAL: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^\d+$/), v.transform(Number), v.minValue(10), v.maxValue(MAX_TIMER_MS), v.description(`an integer from 10 to ${MAX_TIMER_MS} (milliseconds)`)),
    '60000',
  ),
  LOG_LEVEL: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(LOG_LEVELS), v.description(`one of ${LOG_LEVELS.join(', ')}`)), 'warn'),
  LOG_FORMAT: v.optional(v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(LOG_FORMATS), v.description(`one of ${LOG_FORMATS.join(', ')}`)), 'json'),
}

/**
 * The agent's settings from `env`, checked as the gateway's are: every bad variable reported at
 * once with what was expected (the CLI prints them and exits 2). Unset or empty means the default.
 */
export function agentSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigResult<AgentSettings> {
  const issues: ConfigIssue[] = []
  const read = <K extends keyof typeof FIELDS>(name: K): v.InferOutput<(typeof FIELDS)[K]> | undefined => {
    const raw = env[name]?.trim() ? env[name] : undefined
    const result = v.safeParse(FIELDS[name], raw)
    if (result.success) return result.output
    issues.push({ variable: name, received: String(raw), expected: v.getDescription(FIELDS[name].wrapped) ?? 'a valid value' })
    return undefined
  }
  const keepaliveInterval = read('SSH_KEEPALIVE_INTERVAL')
  const logLevel = read('LOG_LEVEL')
  const logFormat = read('LOG_FORMAT')
  if (issues.length > 0) return { ok: false, issues }
  return { ok: true, config: { keepaliveInterval: keepaliveInterval as number, logLevel: logLevel as AgentSettings['logLevel'], logFormat: logFormat as AgentSettings['logFormat'] } }
}
