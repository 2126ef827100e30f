import { describe, expect, test } from 'bun:test'
import { configFromEnv, configFromOptions, type GatewayOptions } from '../../src/config/index.ts'

describe('configFromOptions', () => {
  test('no options gives the same defaults as an empty env', () => {
    expect(configFromOptions({})).toEqual(configFromEnv({}))
    expect(configFromOptions()).toEqual(configFromEnv({}))
  })

  test('given options win over defaults; undefined means default', () => {
    const result = configFromOptions({ port: 0, dataDir: '/tmp/x', sshPort: undefined, metricsPublic: true })
    expect(result.ok && result.config).toMatchObject({ port: 0, dataDir: '/tmp/x', sshPort: undefined, metricsPublic: true, host: '0.0.0.0' })
  })

  test('port -1 is refused, naming the option', () => {
    expect(configFromOptions({ port: -1 })).toEqual({
      ok: false,
      issues: [{ variable: 'port', received: '-1', expected: 'an integer from 0 to 65535' }],
    })
  })

  const refused: [options: Record<string, unknown>, variable: string, received: string][] = [
    [{ port: 3.5 }, 'port', '3.5'],
    [{ port: Number.NaN }, 'port', 'NaN'],
    [{ port: '8080' }, 'port', '8080'],
    [{ host: '' }, 'host', ''],
    [{ maxConnectionsPerUser: 0 }, 'maxConnectionsPerUser', '0'],
    [{ sshMaxChannels: Infinity }, 'sshMaxChannels', 'Infinity'],
    [{ cleanupInterval: 5 }, 'cleanupInterval', '5'],
    [{ logLevel: 'INFO' }, 'logLevel', 'INFO'],
    [{ metricsPublic: 'true' }, 'metricsPublic', 'true'],
    [{ baseDomain: 'a..b' }, 'baseDomain', 'a..b'],
    [{ jwksUrl: 'not a url' }, 'jwksUrl', 'not a url'],
    [{ jwtIssuer: '' }, 'jwtIssuer', ''],
    [{ dataDir: null }, 'dataDir', 'null'],
    [{ secret: 'short' }, 'secret', '(hidden, 5 characters)'],
    [{ adminToken: 42 }, 'adminToken', '(hidden number)'],
  ]
  test.each(refused)('%j is refused', (options, variable, received) => {
    const result = configFromOptions(options as GatewayOptions)
    expect(result.ok ? [] : result.issues.map((issue) => [issue.variable, issue.received])).toEqual([[variable, received]])
  })

  test('every bad option is reported at once', () => {
    const result = configFromOptions({ port: -1, sshMaxChannels: 0, logLevel: 'loud' as 'info' })
    expect(result.ok ? [] : result.issues.map((issue) => issue.variable)).toEqual(['port', 'sshMaxChannels', 'logLevel'])
  })

  test('the port clash is found alongside other issues', () => {
    const result = configFromOptions({ port: 2222, sshPort: 2222, maxIdleTime: 5 })
    expect(result.ok ? [] : result.issues).toEqual([
      { variable: 'sshPort', received: '2222', expected: 'a port other than the HTTP port' },
      { variable: 'maxIdleTime', received: '5', expected: 'an integer from 1000 to 2147483647 (milliseconds)' },
    ])
  })

  test('baseDomain is normalised as from env', () => {
    const result = configFromOptions({ baseDomain: 'Tunnels.Example.COM.' })
    expect(result.ok && result.config.baseDomain).toBe('tunnels.example.com')
  })

  test('something other than an object is one issue about the options', () => {
    expect(configFromOptions(null as unknown as GatewayOptions)).toEqual({
      ok: false,
      issues: [{ variable: 'options', received: 'null', expected: 'an object of options' }],
    })
  })

  test('unknown options are ignored (hosts may pass a wider options object)', () => {
    const options = { port: 0, logger: console } as GatewayOptions
    const result = configFromOptions(options)
    expect(result.ok && 'logger' in result.config).toBe(false)
  })
})
