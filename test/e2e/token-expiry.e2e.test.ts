/**
 * Token expiry on live connections: a connection ends when its token stops being valid (exp plus
 * the gateway's 30 s clock tolerance), with the reason `token expired`. The agent warns ahead;
 * with --token-file it re-reads the file and comes back with the new token; without, it stops and
 * says why. Tokens here are signed to run out ~5 s after the test starts (exp 25 s in the past).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connectionsOf, eventually, logLines } from '../support/admin.ts'
import { runtimeCommand, startAgent, startGateway, startOrigin, startProcess, stopAll, tempDir } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { exitCodeOf, openTunnel } from '../openssh/support.ts'

afterAll(stopAll)

// exp 25 s ago: still accepted for 5 s (CLOCK_TOLERANCE_S = 30), then refused.
const SHORT_TTL_S = -25

async function get(url: string, token: string): Promise<number> {
  return (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status
}

describe('token expiry (gateway on Bun)', () => {
  test('an agent with --token: warned ahead, closed with "token expired" when it runs out, then stops with exit 1', async () => {
    const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { LOG_LEVEL: 'info' })])
    const token = await tokenFor('tess', SHORT_TTL_S)
    const agent = await startAgent(gw.url, token, origin.url)
    // Off a terminal with JSON logs: the agent_token_expiring event carries the notice.
    expect(agent.proc.output()).toMatch(/"event":"agent_token_expiring".*the token expired at \S+Z; the gateway ends the connection/)
    expect(await get(`${gw.url}/t/tess/hello`, token)).toBe(200)
    expect(await exitCodeOf(agent.proc, 30_000)).toBe(1)
    expect(agent.proc.output()).toContain('refused by the gateway: token expired')
    expect(agent.proc.output()).toMatch(/"event":"agent_failed".*the gateway rejected the token \(401\).*token expired/)
    expect(logLines(gw.proc, 'token_expired')).toHaveLength(1)
    expect(await connectionsOf(gw.url, 'tess')).toEqual([])
  }, 60_000)

  test('an agent with --token-file comes back with the rotated token, without a restart', async () => {
    const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { LOG_LEVEL: 'info' })])
    const file = join(tempDir('burrow-token-file-'), 'token')
    writeFileSync(file, `${await tokenFor('rota', SHORT_TTL_S)}\n`)
    const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['connect', '--server', gw.url, '--token-file', file, '--to', origin.url, '--connections', '1'])
    const agent = { proc: startProcess(cmd, args) }
    await agent.proc.waitFor(/connected \(1\/1\)/, 30_000)
    const fresh = await tokenFor('rota')
    writeFileSync(file, fresh)
    await eventually('the old token to run out', () => (logLines(gw.proc, 'token_expired').length === 1 ? true : undefined), 20_000, 50)
    await eventually('the agent back with the new token', () => (logLines(gw.proc, 'agent_connected').length === 2 ? true : undefined), 20_000, 50)
    // Listed once connected, routed once its forward is registered: ask the tunnel itself.
    await eventually('the tunnel serving again', async () => ((await get(`${gw.url}/t/rota/hello`, fresh)) === 200 ? true : undefined), 10_000, 50)
    expect(await connectionsOf(gw.url, 'rota')).toHaveLength(1)
    expect(agent.proc.child.exitCode).toBeNull()
  }, 60_000)

  test('an OpenSSH session on a token as its password ends with "token expired"', async () => {
    const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { SSH_PORT: '0', LOG_LEVEL: 'info' })])
    const sshPort = Number((await gw.proc.waitFor(/SSH listener: \S+:(\d+)/))[1])
    const dir = tempDir('burrow-askpass-')
    const token = await tokenFor('uma', SHORT_TTL_S)
    writeFileSync(join(dir, 'uma.token'), token)
    writeFileSync(join(dir, 'askpass'), `#!/bin/sh\ncat '${join(dir, 'uma.token')}'\n`)
    chmodSync(join(dir, 'askpass'), 0o700)
    const passwordOnly = ['-o', 'BatchMode=no', '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1']
    const ssh = await openTunnel(['-p', String(sshPort), 'uma@127.0.0.1'], origin.port, { SSH_ASKPASS: join(dir, 'askpass'), SSH_ASKPASS_REQUIRE: 'force' }, passwordOnly)
    expect(await exitCodeOf(ssh, 30_000)).toBe(255)
    expect(ssh.output()).toMatch(/disconnect.*token expired/i)
    expect(logLines(gw.proc, 'token_expired')).toHaveLength(1)
  }, 60_000)
})
