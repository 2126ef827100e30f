import proxyaddr from 'proxy-addr'
import * as v from 'valibot'

// Each field is one pipe ending in `v.description(...)`: that text is the `expected` of any
// issue on the field, whichever check failed, so a user sees one sentence per variable.

/** Node and Bun clamp a timer delay above 2^31 - 1 ms to 1 ms, so a larger interval would spin. */
const MAX_TIMER_MS = 2_147_483_647

const integer = (min: number, max: number, unit = '') =>
  v.pipe(
    v.number(),
    v.safeInteger(),
    v.minValue(min),
    v.maxValue(max),
    v.description(`an integer from ${min} to ${max}${unit}`),
  )

const milliseconds = (min: number) => integer(min, MAX_TIMER_MS, ' (milliseconds)')

const text = (minLength: number, expected: string) =>
  v.pipe(v.string(), v.minLength(minLength), v.description(expected))

const nonEmpty = text(1, 'a non-empty string')

/** Characters a token secret needs, wherever it comes from (env, option, data dir file): 256 bits of base64url. */
export const SECRET_MIN_LENGTH = 32
/** Characters an admin token needs, wherever it comes from. */
export const ADMIN_TOKEN_MIN_LENGTH = 16

/** RFC 1123 host label: letters, digits, inner hyphens, at most 63 characters. */
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label))
}

/** `Tunnels.Example.COM.` → `tunnels.example.com`: Host headers are compared lower-case, without the root dot. */
const dnsName = v.pipe(
  v.string(),
  v.toLowerCase(),
  v.transform((name: string) => (name.endsWith('.') ? name.slice(0, -1) : name)),
  v.check(isDnsName),
  v.description('a DNS name such as tunnels.example.com (labels of a-z, 0-9 and inner hyphens, no leading dot)'),
)

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

const httpUrl = v.pipe(v.string(), v.check(isHttpUrl), v.description('an http:// or https:// URL'))

function isRedisUrl(value: string): boolean {
  try {
    const { protocol, hostname } = new URL(value)
    return (protocol === 'redis:' || protocol === 'rediss:') && hostname !== ''
  } catch {
    return false
  }
}

const redisUrl = v.pipe(v.string(), v.check(isRedisUrl), v.description('a redis:// or rediss:// URL, e.g. redis://10.0.0.5:6379/0'))

/** An instance id: what other instances, logs and metrics call this gateway. */
const instanceId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/), v.description('1 to 64 characters of A-Z, a-z, 0-9, _ . -'))

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

const logLevel = v.pipe(v.picklist(LOG_LEVELS), v.description(`one of ${LOG_LEVELS.join(', ')}`))

export const LOG_FORMATS = ['json', 'pretty'] as const

const logFormat = v.pipe(v.picklist(LOG_FORMATS), v.description(`one of ${LOG_FORMATS.join(', ')}`))

const flag = v.pipe(v.boolean(), v.description('true or false'))

/** `10.0.0.0/8, 192.168.1.7, ::1`: an IPv4 or IPv6 address, with or without a prefix length. */
function isCidr(entry: string): boolean {
  try {
    proxyaddr.compile(entry)
    return true
  } catch {
    return false
  }
}

/** Addresses or CIDRs, comma-separated in env, or a list in code: `['10.0.0.0/8', '::1']`. */
const cidrList = v.pipe(
  v.union([v.string(), v.array(v.string())]),
  v.transform((given: string | string[]) => (typeof given === 'string' ? given.split(',') : given).map((e) => e.trim()).filter((e) => e !== '')),
  v.check((list: string[]) => list.length > 0 && list.every(isCidr)),
  v.description('IP addresses or CIDRs, comma-separated, e.g. 10.0.0.0/8,::1'),
)

/**
 * An optional field with no default. The default `() => undefined` (rather than none) makes
 * valibot emit the key with `undefined`, and types it as a required `T | undefined` key, so every
 * Config has every key.
 */
const unset = <const S extends v.GenericSchema>(schema: S) =>
  v.optional(schema, (): undefined => undefined)

/** Field schemas, defaults included. The keys are the option names (the env names live in variables.ts). */
export const configEntries = {
  port: v.optional(integer(0, 65535), 8080),
  host: v.optional(nonEmpty, '0.0.0.0'),
  sshPort: unset(integer(0, 65535)),
  dataDir: v.optional(nonEmpty, './.burrow'),
  secret: unset(text(SECRET_MIN_LENGTH, `at least ${SECRET_MIN_LENGTH} characters`)),
  adminToken: unset(text(ADMIN_TOKEN_MIN_LENGTH, `at least ${ADMIN_TOKEN_MIN_LENGTH} characters`)),
  baseDomain: unset(dnsName),
  maxConnectionsPerUser: v.optional(integer(1, 1000), 3),
  sshMaxChannels: v.optional(integer(1, 1000), 10),
  maxIdleTime: v.optional(milliseconds(1000), 300_000),
  cleanupInterval: v.optional(milliseconds(10), 30_000),
  sshKeepaliveInterval: v.optional(milliseconds(10), 60_000),
  shutdownGracePeriod: v.optional(milliseconds(0), 30_000),
  queueMaxWaiting: v.optional(integer(0, 100_000), 100),
  queueTimeout: v.optional(milliseconds(0), 10_000),
  // LLMs answering `stream:false` take minutes before the first byte; a consumer that leaves costs
  // nothing while it waits (the exchange is cancelled at once), so the bound is generous.
  upstreamHeadTimeout: v.optional(milliseconds(1), 600_000),
  upstreamIdleTimeout: v.optional(milliseconds(0), 300_000),
  logLevel: v.optional(logLevel, 'info'),
  logFormat: v.optional(logFormat, 'json'),
  metricsPublic: v.optional(flag, false),
  metricsPerUser: v.optional(flag, false),
  metricsTopUsers: v.optional(integer(0, 10_000), 10),
  requestMetrics: v.optional(flag, true),
  circuitBreakerFailures: v.optional(integer(0, 1_000_000), 5),
  circuitBreakerCooldown: v.optional(milliseconds(1), 10_000),
  pathRoutingLogin: v.optional(flag, false),
  jwksUrl: unset(httpUrl),
  jwtIssuer: unset(nonEmpty),
  jwtAudience: unset(nonEmpty),
  rateLimitUserPerSecond: v.optional(integer(0, 1_000_000), 200),
  rateLimitUserBurst: v.optional(integer(1, 1_000_000), 2000),
  rateLimitIpPerSecond: v.optional(integer(0, 1_000_000), 100),
  rateLimitIpBurst: v.optional(integer(1, 1_000_000), 1000),
  rateLimitAgentPerMinute: v.optional(integer(0, 1_000_000), 60),
  rateLimitAgentBurst: v.optional(integer(1, 1_000_000), 30),
  sshHandshakeTimeout: v.optional(milliseconds(1), 10_000),
  httpHeadersTimeout: v.optional(milliseconds(1), 10_000),
  trustedProxies: unset(cidrList),
  tlsCertFile: unset(nonEmpty),
  tlsKeyFile: unset(nonEmpty),
  redisUrl: unset(redisUrl),
  internalUrl: unset(httpUrl),
  clusterSecret: unset(text(SECRET_MIN_LENGTH, `at least ${SECRET_MIN_LENGTH} characters`)),
  instanceId: unset(instanceId),
}

export type ConfigKey = keyof typeof configEntries

export const CONFIG_KEYS = Object.keys(configEntries) as ConfigKey[]

/** Whether `key` names a Config field (narrows strings from issue paths and env tables). */
export function isConfigKey(key: unknown): key is ConfigKey {
  return typeof key === 'string' && Object.hasOwn(configEntries, key)
}

/** Human text for what `key` accepts, e.g. `an integer from 1 to 1000`. */
export function expectedFor(key: ConfigKey): string {
  return v.getDescription(configEntries[key].wrapped) ?? 'a valid value'
}

/** The default of `key` (undefined when the field is off unless set). */
export function defaultOf(key: ConfigKey): Config[ConfigKey] {
  return v.getDefault(configEntries[key])
}

/** Error texts of the cross-field checks below; each is the issue's `expected`, not a description. */
export const SSH_PORT_CLASH = 'a port other than the HTTP port'
export const TLS_PAIR = 'set together with TLS_CERT_FILE (a certificate needs its key, and a key its certificate)'

/** The whole configuration: field checks, then checks that span fields. */
export const ConfigSchema = v.pipe(
  v.object(configEntries),
  // Both listeners bind the same host; the same non-zero port would fail with EADDRINUSE at start.
  v.forward(
    v.partialCheck(
      [['port'], ['sshPort']],
      ({ port, sshPort }) => sshPort === undefined || sshPort === 0 || sshPort !== port,
      SSH_PORT_CLASH,
    ),
    ['sshPort'],
  ),
  v.forward(
    v.partialCheck([['tlsCertFile'], ['tlsKeyFile']], ({ tlsCertFile, tlsKeyFile }) => (tlsCertFile === undefined) === (tlsKeyFile === undefined), TLS_PAIR),
    ['tlsKeyFile'],
  ),
)

/** The gateway's configuration with defaults applied; optional fields are present as `undefined`. */
export type Config = Readonly<v.InferOutput<typeof ConfigSchema>>

/** What `createGateway(options)` takes: any subset of Config, e.g. `{ port: 0, dataDir: tmp }`. */
export type GatewayOptions = Partial<Config>
