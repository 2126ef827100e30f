import { CONFIG_KEYS, defaultOf, type ConfigKey } from './schema.ts'

/** How an env string becomes the option's typed value (see env.ts). */
export type EnvKind = 'integer' | 'boolean' | 'keyword' | 'text'

interface VariableSpec {
  readonly env: string
  readonly kind: EnvKind
  readonly meaning: string
  /** What happens when unset, for fields without a default value. */
  readonly unset?: string
  /** Never echo the value back in an issue: it is a credential. */
  readonly sensitive?: true
}

/** One entry per Config key (the compiler checks coverage), in the order they are documented. */
export const VARIABLE_SPECS: { readonly [K in ConfigKey]: VariableSpec } = {
  port: { env: 'PORT', kind: 'integer', meaning: 'HTTP listen port (0 picks a free port)' },
  host: { env: 'HOST', kind: 'text', meaning: 'HTTP listen address' },
  sshPort: {
    env: 'SSH_PORT',
    kind: 'integer',
    meaning: 'optional raw TCP SSH listener for stock `ssh -R`',
    unset: 'unset (off)',
  },
  dataDir: { env: 'BURROW_DATA_DIR', kind: 'text', meaning: 'host key, secret, admin token (created 0600 on first start)' },
  secret: {
    env: 'BURROW_SECRET',
    kind: 'text',
    meaning: 'HS256 key for tokens (at least 32 characters)',
    unset: 'generated in data dir',
    sensitive: true,
  },
  adminToken: {
    env: 'BURROW_ADMIN_TOKEN',
    kind: 'text',
    meaning: 'bearer token for /admin/* (at least 16 characters)',
    unset: 'generated in data dir',
    sensitive: true,
  },
  baseDomain: {
    env: 'BURROW_BASE_DOMAIN',
    kind: 'text',
    meaning: 'if set, <tunnel>.<domain> Host routing as well as /t/<tunnel>/',
  },
  maxConnectionsPerUser: { env: 'MAX_CONNECTIONS_PER_USER', kind: 'integer', meaning: 'pool limit per user' },
  sshMaxChannels: { env: 'SSH_MAX_CHANNELS', kind: 'integer', meaning: 'channels per connection' },
  maxIdleTime: { env: 'MAX_IDLE_TIME', kind: 'integer', meaning: 'ms before a surplus idle connection is retired' },
  cleanupInterval: { env: 'CLEANUP_INTERVAL', kind: 'integer', meaning: 'ms between sweeps' },
  sshKeepaliveInterval: {
    env: 'SSH_KEEPALIVE_INTERVAL',
    kind: 'integer',
    meaning: 'ms between keep-alives; dead after 3 missed',
  },
  shutdownGracePeriod: { env: 'SHUTDOWN_GRACE_PERIOD', kind: 'integer', meaning: 'ms to drain in-flight requests' },
  queueMaxWaiting: { env: 'QUEUE_MAX_WAITING', kind: 'integer', meaning: 'requests a saturated tunnel may queue per user' },
  queueTimeout: { env: 'QUEUE_TIMEOUT', kind: 'integer', meaning: 'ms a queued request waits before 503' },
  upstreamHeadTimeout: {
    env: 'UPSTREAM_HEAD_TIMEOUT',
    kind: 'integer',
    meaning: "ms allowed for the local service's response head (504 after)",
  },
  upstreamIdleTimeout: {
    env: 'UPSTREAM_IDLE_TIMEOUT',
    kind: 'integer',
    meaning: 'ms of silence allowed on a streaming response (0 = never)',
  },
  logLevel: { env: 'LOG_LEVEL', kind: 'keyword', meaning: 'least severe level logged: debug, info, warn, error' },
  logFormat: { env: 'LOG_FORMAT', kind: 'keyword', meaning: 'json (one JSON object per line) or pretty (aligned text for a terminal)' },
  metricsPublic: { env: 'METRICS_PUBLIC', kind: 'boolean', meaning: 'serve /metrics without the admin token (1/0/true/false)' },
  metricsPerUser: { env: 'METRICS_PER_USER', kind: 'boolean', meaning: 'per-user series for every user (default: only the METRICS_TOP_USERS busiest)' },
  metricsTopUsers: { env: 'METRICS_TOP_USERS', kind: 'integer', meaning: 'users with their own series when METRICS_PER_USER is off; the rest are summed as user="_other"' },
  requestMetrics: {
    env: 'REQUEST_METRICS',
    kind: 'boolean',
    meaning: 'per-request timing: latency histograms, the request inspector, the dashboard rates (0 = off, for the bench)',
  },
  circuitBreakerFailures: {
    env: 'CIRCUIT_BREAKER_FAILURES',
    kind: 'integer',
    meaning: "consecutive upstream failures that open a tunnel's circuit breaker (0 = no breaker)",
  },
  circuitBreakerCooldown: { env: 'CIRCUIT_BREAKER_COOLDOWN', kind: 'integer', meaning: 'ms an open breaker answers 503 circuit_open before a trial request' },
  pathRoutingLogin: {
    env: 'PATH_ROUTING_LOGIN',
    kind: 'boolean',
    meaning: 'allow ?burrow_token= browser logins under /t/<tunnel>/, where all tunnels share one origin (only where tunnels trust each other)',
  },
  jwksUrl: { env: 'BURROW_JWKS_URL', kind: 'text', meaning: 'JWKS URL for verifying externally issued tokens' },
  jwtIssuer: { env: 'BURROW_JWT_ISSUER', kind: 'text', meaning: 'if set, tokens must carry this `iss` claim' },
  jwtAudience: { env: 'BURROW_JWT_AUDIENCE', kind: 'text', meaning: 'if set, tokens must carry this `aud` claim' },
  rateLimitUserPerSecond: {
    env: 'RATE_LIMIT_USER_PER_SECOND',
    kind: 'integer',
    meaning: "consumer requests per second to one user's tunnel, from all clients (0 = no limit)",
  },
  rateLimitUserBurst: { env: 'RATE_LIMIT_USER_BURST', kind: 'integer', meaning: "requests one user's tunnel may take at once above that rate" },
  rateLimitIpPerSecond: {
    env: 'RATE_LIMIT_IP_PER_SECOND',
    kind: 'integer',
    meaning: 'consumer requests per second from one client IP (IPv6: one /64), all tunnels (0 = no limit)',
  },
  rateLimitIpBurst: { env: 'RATE_LIMIT_IP_BURST', kind: 'integer', meaning: 'requests one client IP may make at once above that rate' },
  rateLimitAgentPerMinute: {
    env: 'RATE_LIMIT_AGENT_PER_MINUTE',
    kind: 'integer',
    meaning: 'agent connection attempts per minute from one IP, on /tunnel and SSH_PORT (0 = no limit)',
  },
  rateLimitAgentBurst: { env: 'RATE_LIMIT_AGENT_BURST', kind: 'integer', meaning: 'agent connection attempts one IP may make at once' },
  sshHandshakeTimeout: {
    env: 'SSH_HANDSHAKE_TIMEOUT',
    kind: 'integer',
    meaning: 'ms an agent connection has to finish the SSH handshake and authentication',
  },
  httpHeadersTimeout: {
    env: 'HTTP_HEADERS_TIMEOUT',
    kind: 'integer',
    meaning: 'ms a consumer has to send a complete request head (Node; Bun has a fixed 10 s, Deno none)',
  },
  trustedProxies: {
    env: 'TRUSTED_PROXIES',
    kind: 'text',
    meaning: 'addresses or CIDRs of proxies in front whose X-Forwarded-For and -Proto are believed',
  },
  tlsCertFile: { env: 'TLS_CERT_FILE', kind: 'text', meaning: 'PEM certificate chain: serve HTTPS and wss (with TLS_KEY_FILE)' },
  tlsKeyFile: { env: 'TLS_KEY_FILE', kind: 'text', meaning: 'PEM private key of TLS_CERT_FILE' },
  redisUrl: {
    env: 'REDIS_URL',
    kind: 'text',
    meaning: 'Redis shared by several gateway instances: tunnel directory, cluster-wide connection limit, stats',
    unset: 'unset (one instance, nothing shared)',
    sensitive: true,
  },
  internalUrl: {
    env: 'BURROW_INTERNAL_URL',
    kind: 'text',
    meaning: 'with REDIS_URL: the base URL other instances reach this one at (its internal route)',
    unset: 'http://HOST:PORT of the listener',
  },
  clusterSecret: {
    env: 'BURROW_CLUSTER_SECRET',
    kind: 'text',
    meaning: 'with REDIS_URL: authenticates requests between instances (at least 32 characters; the same on every instance)',
    unset: 'derived from BURROW_SECRET (HKDF)',
    sensitive: true,
  },
  instanceId: {
    env: 'BURROW_INSTANCE_ID',
    kind: 'text',
    meaning: 'with REDIS_URL: this instance\'s name in the directory, stats and metrics',
    unset: 'random at start',
  },
}

/** One row of the variables table. */
export interface ConfigVariable {
  readonly env: string
  readonly option: ConfigKey
  readonly default: string
  readonly meaning: string
}

/**
 * Every variable with its option name, default and meaning, for the README and `burrow serve --help`.
 * @example CONFIG_VARIABLES.find((row) => row.env === 'PORT') // { env: 'PORT', option: 'port', default: '8080', … }
 */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = CONFIG_KEYS.map((option) => {
  const { env, meaning, unset = 'unset' } = VARIABLE_SPECS[option]
  const value = defaultOf(option)
  return { env, option, default: value === undefined ? unset : String(value), meaning }
})

/** Env name of an option, e.g. `maxIdleTime` → `MAX_IDLE_TIME`. */
export function envNameOf(key: ConfigKey): string {
  return VARIABLE_SPECS[key].env
}
