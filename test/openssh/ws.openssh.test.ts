import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startGateway, startOrigin, stopAll, type GatewayProc, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { exitCodeOf, openTunnel, ssh, wsStdioProxy } from './support.ts'
import { trafficTests } from './traffic.ts'

describe('stock OpenSSH over WebSocket (ProxyCommand burrow ws-stdio)', () => {
  let origin: Origin
  let gw: GatewayProc
  let aliceToken: string
  // The host name is only a label here: ProxyCommand makes the connection.
  const via = (token: string, user: string, extra: string[] = []) => ['-o', `ProxyCommand=${wsStdioProxy(gw.url, ['--token', token, ...extra])}`, `${user}@burrow-gw`]

  beforeAll(async () => {
    ;[origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { QUEUE_TIMEOUT: '30000' })])
    aliceToken = await tokenFor('alice')
    // No key on file: over the WebSocket the bearer token has already authenticated alice.
    await Promise.all([openTunnel(via(aliceToken, 'alice'), origin.port), openTunnel(via(aliceToken, 'alice'), origin.port)])
  })
  afterAll(stopAll)

  trafficTests(() => ({ base: `${gw.url}/t/alice`, token: aliceToken }))

  test('a 4th session of the same user is refused, with the reason on ssh\'s stderr', async () => {
    const carol = await tokenFor('carol')
    for (let i = 0; i < 3; i++) await openTunnel(via(carol, 'carol'), origin.port)
    const fourth = ssh(['-v', '-N', '-R', `80:127.0.0.1:${origin.port}`, ...via(carol, 'carol')])
    expect(await exitCodeOf(fourth)).toBe(255)
    expect(fourth.output()).toContain('user connection limit (3)')
  })

  test('a bad token: ws-stdio says the gateway rejected it (401) and ssh gives up', async () => {
    const proc = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, ...via('not-a-token', 'alice')])
    expect(await exitCodeOf(proc)).toBe(255)
    expect(proc.output()).toMatch(/burrow ws-stdio: the gateway rejected the token \(401\)/)
  })

  test('the SSH user must be the token\'s user', async () => {
    const proc = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, ...via(aliceToken, 'bob')])
    expect(await exitCodeOf(proc)).toBe(255)
    expect(proc.output()).toMatch(/Permission denied/)
  })

  test('exec and ssh -W (direct-tcpip) are refused over the WebSocket too', async () => {
    const exec = ssh([...via(aliceToken, 'alice'), 'whoami'])
    expect(await exitCodeOf(exec)).toBe(255)
    expect(exec.output()).toContain('exec request failed')
    const direct = ssh(['-W', `127.0.0.1:${origin.port}`, ...via(aliceToken, 'alice')])
    expect(await exitCodeOf(direct)).toBe(255)
    expect(direct.output()).toMatch(/open failed/)
  })
})
