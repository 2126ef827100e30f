import { describe, expect, test } from 'bun:test'
import type { ConfigKey } from '../../src/config/schema.ts'
import { CONFIG_VARIABLES, configFromEnv } from '../../src/config/index.ts'

describe('CONFIG_VARIABLES', () => {
  const defaults = configFromEnv({})
  if (!defaults.ok) throw new Error('defaults must parse')

  test('has one row per Config key, in Config order', () => {
    expect(CONFIG_VARIABLES.map((row): string => row.option)).toEqual(Object.keys(defaults.config))
  })

  test('env names are distinct', () => {
    const names = CONFIG_VARIABLES.map((row) => row.env)
    expect(new Set(names).size).toBe(names.length)
  })

  // A valid value other than the default for every variable.
  const SAMPLES: Record<string, { env: string; value: unknown }> = {
    port: { env: '9000', value: 9000 },
    host: { env: '127.0.0.1', value: '127.0.0.1' },
    sshPort: { env: '2222', value: 2222 },
    dataDir: { env: '/data', value: '/data' },
    secret: { env: 's'.repeat(32), value: 's'.repeat(32) },
    adminToken: { env: 'a'.repeat(16), value: 'a'.repeat(16) },
    baseDomain: { env: 'example.com', value: 'example.com' },
    maxConnectionsPerUser: { env: '5', value: 5 },
    sshMaxChannels: { env: '20', value: 20 },
    maxIdleTime: { env: '60000', value: 60_000 },
    cleanupInterval: { env: '1000', value: 1000 },
    sshKeepaliveInterval: { env: '5000', value: 5000 },
    shutdownGracePeriod: { env: '0', value: 0 },
    queueMaxWaiting: { env: '7', value: 7 },
    queueTimeout: { env: '500', value: 500 },
    upstreamHeadTimeout: { env: '1500', value: 1500 },
    upstreamIdleTimeout: { env: '0', value: 0 },
    logLevel: { env: 'error', value: 'error' },
    logFormat: { env: 'pretty', value: 'pretty' },
    metricsPublic: { env: '1', value: true },
    metricsPerUser: { env: '1', value: true },
    metricsTopUsers: { env: '3', value: 3 },
    requestMetrics: { env: '0', value: false },
    circuitBreakerFailures: { env: '3', value: 3 },
    circuitBreakerCooldown: { env: '2000', value: 2000 },
    pathRoutingLogin: { env: 'true', value: true },
    jwksUrl: { env: 'https://example.com/jwks', value: 'https://example.com/jwks' },
    jwtIssuer: { env: 'issuer', value: 'issuer' },
    jwtAudience: { env: 'audience', value: 'audience' },
    rateLimitUserPerSecond: { env: '0', value: 0 },
    rateLimitUserBurst: { env: '50', value: 50 },
    rateLimitIpPerSecond: { env: '10', value: 10 },
    rateLimitIpBurst: { env: '20', value: 20 },
    rateLimitAgentPerMinute: { env: '6', value: 6 },
    rateLimitAgentBurst: { env: '3', value: 3 },
    sshHandshakeTimeout: { env: '2500', value: 2500 },
    httpHeadersTimeout: { env: '4000', value: 4000 },
    trustedProxies: { env: '10.0.0.1', value: ['10.0.0.1'] },
    tlsCertFile: { env: '/etc/burrow/cert.pem', value: '/etc/burrow/cert.pem' },
    tlsKeyFile: { env: '/etc/burrow/key.pem', value: '/etc/burrow/key.pem' },
    redisUrl: { env: 'redis://10.0.0.5:6379/0', value: 'redis://10.0.0.5:6379/0' },
    internalUrl: { env: 'http://10.0.0.7:8080', value: 'http://10.0.0.7:8080' },
    clusterSecret: { env: 'c'.repeat(32), value: 'c'.repeat(32) },
    instanceId: { env: 'gw-a', value: 'gw-a' },
  }

  // Variables that only come in pairs (a certificate and its key) are set with their partner.
  const PARTNERS: Partial<Record<string, [string, string, ConfigKey]>> = {
    tlsCertFile: ['TLS_KEY_FILE', '/etc/burrow/key.pem', 'tlsKeyFile'],
    tlsKeyFile: ['TLS_CERT_FILE', '/etc/burrow/cert.pem', 'tlsCertFile'],
  }

  test.each(CONFIG_VARIABLES.map((row) => [row.env, row.option] as const))('%s sets %s and nothing else (but its partner)', (env, option) => {
    const sample = SAMPLES[option]
    if (sample === undefined) throw new Error(`no sample for ${option}`)
    const partner = PARTNERS[option]
    const result = configFromEnv({ [env]: sample.env, ...(partner ? { [partner[0]]: partner[1] } : {}) })
    expect(result).toEqual({ ok: true, config: { ...defaults.config, [option]: sample.value, ...(partner ? { [partner[2]]: partner[1] } : {}) } })
    expect(sample.value).not.toEqual(defaults.config[option])
  })

  test('rows carry the documented defaults and a meaning', () => {
    const byEnv = Object.fromEntries(CONFIG_VARIABLES.map((row) => [row.env, row.default]))
    expect(byEnv).toMatchObject({
      PORT: '8080',
      HOST: '0.0.0.0',
      SSH_PORT: 'unset (off)',
      BURROW_DATA_DIR: './.burrow',
      BURROW_SECRET: 'generated in data dir',
      BURROW_ADMIN_TOKEN: 'generated in data dir',
      MAX_CONNECTIONS_PER_USER: '3',
      SSH_MAX_CHANNELS: '10',
      LOG_LEVEL: 'info',
      METRICS_PUBLIC: 'false',
    })
    for (const row of CONFIG_VARIABLES) expect(row.meaning.length).toBeGreaterThan(0)
  })
})
