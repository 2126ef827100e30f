import { describe, expect, test } from 'bun:test'
import { configFromEnv, type Config, type ConfigIssue } from '../../src/config/index.ts'

function parsed(env: Record<string, string>): Config {
  const result = configFromEnv(env)
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.issues)}`)
  return result.config
}

function refused(env: Record<string, string>): readonly ConfigIssue[] {
  const result = configFromEnv(env)
  if (result.ok) throw new Error(`expected issues, got ${JSON.stringify(result.config)}`)
  return result.issues
}

describe('configFromEnv', () => {
  test('an empty env gives every default, with unset options present as undefined', () => {
    expect(parsed({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      sshPort: undefined,
      dataDir: './.burrow',
      secret: undefined,
      adminToken: undefined,
      baseDomain: undefined,
      maxConnectionsPerUser: 3,
      sshMaxChannels: 10,
      maxIdleTime: 300_000,
      cleanupInterval: 30_000,
      sshKeepaliveInterval: 60_000,
      shutdownGracePeriod: 30_000,
      queueMaxWaiting: 100,
      queueTimeout: 10_000,
      upstreamHeadTimeout: 600_000,
      upstreamIdleTimeout: 300_000,
      logLevel: 'info',
      logFormat: 'json',
      metricsPublic: false,
      metricsPerUser: false,
      metricsTopUsers: 10,
      requestMetrics: true,
      circuitBreakerFailures: 5,
      circuitBreakerCooldown: 10_000,
      pathRoutingLogin: false,
      jwksUrl: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
      rateLimitUserPerSecond: 200,
      rateLimitUserBurst: 2000,
      rateLimitIpPerSecond: 100,
      rateLimitIpBurst: 1000,
      rateLimitAgentPerMinute: 60,
      rateLimitAgentBurst: 30,
      sshHandshakeTimeout: 10_000,
      httpHeadersTimeout: 10_000,
      trustedProxies: undefined,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      redisUrl: undefined,
      internalUrl: undefined,
      clusterSecret: undefined,
      instanceId: undefined,
    })
    expect(Object.hasOwn(parsed({}), 'sshPort')).toBe(true)
  })

  test('empty and blank strings count as unset', () => {
    expect(parsed({ PORT: '', HOST: '   ', SSH_PORT: ' ', BURROW_SECRET: '' })).toEqual(parsed({}))
  })

  test('variables Burrow does not know are ignored', () => {
    expect(parsed({ PATH: '/usr/bin', PORTT: 'x', port: 'abc' })).toEqual(parsed({}))
  })

  test('values are trimmed', () => {
    expect(parsed({ PORT: ' 9000 ', HOST: ' 127.0.0.1\n' })).toMatchObject({ port: 9000, host: '127.0.0.1' })
  })

  const accepted: [env: Record<string, string>, expected: Partial<Config>][] = [
    [{ PORT: '0' }, { port: 0 }],
    [{ PORT: '65535' }, { port: 65535 }],
    [{ PORT: '0080' }, { port: 80 }],
    [{ HOST: '::1' }, { host: '::1' }],
    [{ SSH_PORT: '2222' }, { sshPort: 2222 }],
    [{ SSH_PORT: '0', PORT: '0' }, { sshPort: 0, port: 0 }],
    [{ BURROW_DATA_DIR: '/var/lib/burrow' }, { dataDir: '/var/lib/burrow' }],
    [{ BURROW_SECRET: 's'.repeat(32) }, { secret: 's'.repeat(32) }],
    [{ BURROW_ADMIN_TOKEN: 'a'.repeat(16) }, { adminToken: 'a'.repeat(16) }],
    [{ BURROW_BASE_DOMAIN: 'tunnels.example.com' }, { baseDomain: 'tunnels.example.com' }],
    [{ BURROW_BASE_DOMAIN: 'localhost' }, { baseDomain: 'localhost' }],
    [{ MAX_CONNECTIONS_PER_USER: '1' }, { maxConnectionsPerUser: 1 }],
    [{ MAX_CONNECTIONS_PER_USER: '1000' }, { maxConnectionsPerUser: 1000 }],
    [{ SSH_MAX_CHANNELS: '64' }, { sshMaxChannels: 64 }],
    [{ MAX_IDLE_TIME: '1000' }, { maxIdleTime: 1000 }],
    [{ CLEANUP_INTERVAL: '10' }, { cleanupInterval: 10 }],
    [{ SSH_KEEPALIVE_INTERVAL: '15000' }, { sshKeepaliveInterval: 15_000 }],
    [{ SHUTDOWN_GRACE_PERIOD: '0' }, { shutdownGracePeriod: 0 }],
    [{ QUEUE_MAX_WAITING: '0' }, { queueMaxWaiting: 0 }],
    [{ QUEUE_MAX_WAITING: '100000' }, { queueMaxWaiting: 100_000 }],
    [{ QUEUE_TIMEOUT: '0' }, { queueTimeout: 0 }],
    [{ UPSTREAM_HEAD_TIMEOUT: '1' }, { upstreamHeadTimeout: 1 }],
    [{ TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7,::1' }, { trustedProxies: ['10.0.0.0/8', '192.168.1.7', '::1'] }],
    [{ UPSTREAM_IDLE_TIMEOUT: '0' }, { upstreamIdleTimeout: 0 }],
    [{ UPSTREAM_IDLE_TIMEOUT: '2147483647' }, { upstreamIdleTimeout: 2_147_483_647 }],
    [{ LOG_LEVEL: 'debug' }, { logLevel: 'debug' }],
    [{ LOG_LEVEL: 'WARN' }, { logLevel: 'warn' }],
    [{ LOG_FORMAT: 'Pretty' }, { logFormat: 'pretty' }],
    [{ CIRCUIT_BREAKER_FAILURES: '0', CIRCUIT_BREAKER_COOLDOWN: '500' }, { circuitBreakerFailures: 0, circuitBreakerCooldown: 500 }],
    [{ BURROW_JWKS_URL: 'https://id.example.com/.well-known/jwks.json' }, { jwksUrl: 'https://id.example.com/.well-known/jwks.json' }],
    [{ BURROW_JWKS_URL: 'http://127.0.0.1:9000/jwks' }, { jwksUrl: 'http://127.0.0.1:9000/jwks' }],
    [{ BURROW_JWT_ISSUER: 'https://id.example.com/' }, { jwtIssuer: 'https://id.example.com/' }],
    [{ BURROW_JWT_AUDIENCE: 'burrow' }, { jwtAudience: 'burrow' }],
  ]
  test.each(accepted)('accepts %j', (env, expected) => {
    expect(parsed(env)).toMatchObject(expected)
  })

  const rejected: [env: Record<string, string>, expected: ConfigIssue][] = [
    [{ PORT: '70000' }, { variable: 'PORT', received: '70000', expected: 'an integer from 0 to 65535' }],
    [{ PORT: '-1' }, { variable: 'PORT', received: '-1', expected: 'an integer from 0 to 65535' }],
    [{ PORT: '80.5' }, { variable: 'PORT', received: '80.5', expected: 'an integer from 0 to 65535' }],
    [{ PORT: '0x50' }, { variable: 'PORT', received: '0x50', expected: 'an integer from 0 to 65535' }],
    [{ SSH_PORT: '65536' }, { variable: 'SSH_PORT', received: '65536', expected: 'an integer from 0 to 65535' }],
    [{ MAX_CONNECTIONS_PER_USER: 'abc' }, { variable: 'MAX_CONNECTIONS_PER_USER', received: 'abc', expected: 'an integer from 1 to 1000' }],
    [{ MAX_CONNECTIONS_PER_USER: '12abc' }, { variable: 'MAX_CONNECTIONS_PER_USER', received: '12abc', expected: 'an integer from 1 to 1000' }],
    [{ MAX_CONNECTIONS_PER_USER: '1001' }, { variable: 'MAX_CONNECTIONS_PER_USER', received: '1001', expected: 'an integer from 1 to 1000' }],
    [{ SSH_MAX_CHANNELS: '0' }, { variable: 'SSH_MAX_CHANNELS', received: '0', expected: 'an integer from 1 to 1000' }],
    [{ MAX_IDLE_TIME: '1e3' }, { variable: 'MAX_IDLE_TIME', received: '1e3', expected: 'an integer from 1000 to 2147483647 (milliseconds)' }],
    [{ MAX_IDLE_TIME: '999' }, { variable: 'MAX_IDLE_TIME', received: '999', expected: 'an integer from 1000 to 2147483647 (milliseconds)' }],
    [{ CLEANUP_INTERVAL: '9' }, { variable: 'CLEANUP_INTERVAL', received: '9', expected: 'an integer from 10 to 2147483647 (milliseconds)' }],
    // A timer delay above 2^31 - 1 ms fires after 1 ms instead, so the interval would spin.
    [{ SSH_KEEPALIVE_INTERVAL: '2147483648' }, { variable: 'SSH_KEEPALIVE_INTERVAL', received: '2147483648', expected: 'an integer from 10 to 2147483647 (milliseconds)' }],
    [{ SHUTDOWN_GRACE_PERIOD: '-5' }, { variable: 'SHUTDOWN_GRACE_PERIOD', received: '-5', expected: 'an integer from 0 to 2147483647 (milliseconds)' }],
    [{ QUEUE_MAX_WAITING: '100001' }, { variable: 'QUEUE_MAX_WAITING', received: '100001', expected: 'an integer from 0 to 100000' }],
    [{ QUEUE_TIMEOUT: '10s' }, { variable: 'QUEUE_TIMEOUT', received: '10s', expected: 'an integer from 0 to 2147483647 (milliseconds)' }],
    [{ TLS_CERT_FILE: '/etc/cert.pem' }, { variable: 'TLS_KEY_FILE', received: '(unset)', expected: 'set together with TLS_CERT_FILE (a certificate needs its key, and a key its certificate)' }],
    [{ TRUSTED_PROXIES: '10.0.0.0/33' }, { variable: 'TRUSTED_PROXIES', received: '10.0.0.0/33', expected: 'IP addresses or CIDRs, comma-separated, e.g. 10.0.0.0/8,::1' }],
    [{ TRUSTED_PROXIES: 'proxy.example.com' }, { variable: 'TRUSTED_PROXIES', received: 'proxy.example.com', expected: 'IP addresses or CIDRs, comma-separated, e.g. 10.0.0.0/8,::1' }],
    [{ UPSTREAM_HEAD_TIMEOUT: '0' }, { variable: 'UPSTREAM_HEAD_TIMEOUT', received: '0', expected: 'an integer from 1 to 2147483647 (milliseconds)' }],
    [{ UPSTREAM_IDLE_TIMEOUT: '99999999999999999999' }, { variable: 'UPSTREAM_IDLE_TIMEOUT', received: '99999999999999999999', expected: 'an integer from 0 to 2147483647 (milliseconds)' }],
    [{ LOG_LEVEL: 'verbose' }, { variable: 'LOG_LEVEL', received: 'verbose', expected: 'one of debug, info, warn, error' }],
    [{ METRICS_PUBLIC: 'yes' }, { variable: 'METRICS_PUBLIC', received: 'yes', expected: 'one of 1, 0, true, false' }],
    [{ BURROW_JWKS_URL: 'ftp://id.example.com/jwks' }, { variable: 'BURROW_JWKS_URL', received: 'ftp://id.example.com/jwks', expected: 'an http:// or https:// URL' }],
    [{ BURROW_JWKS_URL: 'id.example.com/jwks' }, { variable: 'BURROW_JWKS_URL', received: 'id.example.com/jwks', expected: 'an http:// or https:// URL' }],
    [{ PORT: '2222', SSH_PORT: '2222' }, { variable: 'SSH_PORT', received: '2222', expected: 'a port other than the HTTP port' }],
    [{ SSH_PORT: '8080' }, { variable: 'SSH_PORT', received: '8080', expected: 'a port other than the HTTP port' }],
  ]
  test.each(rejected)('refuses %j', (env, expected) => {
    expect(refused(env)).toEqual([expected])
  })

  test('credentials that are too short are refused without echoing them', () => {
    expect(refused({ BURROW_SECRET: 'hunter2', BURROW_ADMIN_TOKEN: 'tok' })).toEqual([
      { variable: 'BURROW_SECRET', received: '(hidden, 7 characters)', expected: 'at least 32 characters' },
      { variable: 'BURROW_ADMIN_TOKEN', received: '(hidden, 3 characters)', expected: 'at least 16 characters' },
    ])
  })

  test('a very long received value is cut to fit a line', () => {
    const [issue] = refused({ PORT: '9'.repeat(500) })
    expect(issue?.received.length).toBe(80)
    expect(issue?.received.endsWith('…')).toBe(true)
  })

  test('several bad variables are all reported at once, in documented order', () => {
    const issues = refused({
      SSH_MAX_CHANNELS: '0',
      MAX_CONNECTIONS_PER_USER: 'abc',
      PORT: '70000',
      LOG_LEVEL: 'loud',
      HOST: 'example.com',
    })
    expect(issues.map((issue) => issue.variable)).toEqual(['PORT', 'MAX_CONNECTIONS_PER_USER', 'SSH_MAX_CHANNELS', 'LOG_LEVEL'])
  })

  test('a value failing several checks of one field is reported once', () => {
    expect(refused({ MAX_IDLE_TIME: '-1.5' })).toHaveLength(1)
  })
})

describe('BURROW_BASE_DOMAIN', () => {
  const normalised: [given: string, expected: string][] = [
    ['Tunnels.Example.COM', 'tunnels.example.com'],
    ['tunnels.example.com.', 'tunnels.example.com'],
    ['  EXAMPLE.com.  ', 'example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c0', 'a-b.c0'],
  ]
  test.each(normalised)('%j becomes %j', (given, expected) => {
    expect(parsed({ BURROW_BASE_DOMAIN: given }).baseDomain).toBe(expected)
  })

  const invalid = ['.example.com', 'example..com', 'example.com..', 'exa_mple.com', '-x.example.com', 'x-.example.com', 'example.com:8080', '*.example.com', 'https://example.com', `${'a'.repeat(64)}.com`, '.']
  test.each(invalid)('%j is refused', (given) => {
    expect(refused({ BURROW_BASE_DOMAIN: given })).toEqual([
      { variable: 'BURROW_BASE_DOMAIN', received: given, expected: expect.stringContaining('a DNS name') },
    ])
  })
})

describe('METRICS_PUBLIC', () => {
  const cases: [given: string, expected: boolean][] = [
    ['1', true],
    ['true', true],
    ['TRUE', true],
    ['0', false],
    ['false', false],
    ['False', false],
  ]
  test.each(cases)('%j → %p', (given, expected) => {
    expect(parsed({ METRICS_PUBLIC: given }).metricsPublic).toBe(expected)
  })

  test.each(['yes', 'no', 'on', '2', 'truthy'])('%j is refused', (given) => {
    expect(refused({ METRICS_PUBLIC: given })[0]?.variable).toBe('METRICS_PUBLIC')
  })
})
