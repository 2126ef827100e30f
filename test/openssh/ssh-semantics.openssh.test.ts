/**
 * SSH semantics with stock OpenSSH on SSH_PORT: `ssh -O cancel -R …` on a ControlMaster takes the
 * connection out of the pool at once, and no SHA-1 user-key signature (`ssh-rsa`) is accepted.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { logLines } from '../support/admin.ts'
import { runtimeCommand, startGateway, startOrigin, startProcess, stopAll, tempDir, type GatewayProc, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { exitCodeOf, openTunnel, ssh, sshKeygen } from './support.ts'

async function keysAdd(dataDir: string, user: string, pubFile: string): Promise<void> {
  const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['keys', 'add', user, pubFile])
  expect(await startProcess(cmd, args, { BURROW_DATA_DIR: dataDir }).exited()).toBe(0)
}

describe('OpenSSH semantics (gateway on Bun, SSH_PORT)', () => {
  let origin: Origin
  let gw: GatewayProc
  let sshPort: number
  let keys: string
  const at = (user: string) => ['-p', String(sshPort), `${user}@127.0.0.1`]

  beforeAll(async () => {
    keys = tempDir('burrow-ssh-sem-')
    ;[origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { SSH_PORT: '0', LOG_LEVEL: 'info' })])
    sshPort = Number((await gw.proc.waitFor(/SSH listener: \S+:(\d+)/))[1])
  })
  afterAll(stopAll)

  test('ssh -O cancel -R on a ControlMaster: the connection leaves the pool at once, the other serves every request', async () => {
    const key = sshKeygen(keys, 'erin')
    await keysAdd(gw.dataDir, 'erin', `${key}.pub`)
    const control = join(keys, 'erin.ctl')
    const forward = `80:127.0.0.1:${origin.port}`
    await openTunnel(['-i', key, '-M', '-S', control, ...at('erin')], origin.port)
    await openTunnel(['-i', key, ...at('erin')], origin.port)
    const token = await tokenFor('erin')

    const cancel = ssh(['-S', control, '-O', 'cancel', '-R', forward, ...at('erin')])
    expect(await exitCodeOf(cancel)).toBe(0)
    // ssh -O cancel exits 0 once the gateway replied, and the gateway replies after taking the
    // connection out of the pool: requests sent now must not be routed to it.
    // At once, so the pool spreads them over every connection it still lists.
    const slow = () => fetch(`${gw.url}/t/erin/slow?ms=300`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)
    const statuses = await Promise.all(Array.from({ length: 12 }, slow))
    expect(statuses).toEqual(Array.from({ length: 12 }, () => 200))
    await gw.proc.waitFor(/"event":"tunnel_cancelled"/, 5_000)
    expect(logLines(gw.proc, 'tunnel_cancelled')).toHaveLength(1)
  }, 60_000)

  test('a user whose only forward is cancelled has no tunnel (404), while the SSH session stays', async () => {
    const key = sshKeygen(keys, 'fay')
    await keysAdd(gw.dataDir, 'fay', `${key}.pub`)
    const control = join(keys, 'fay.ctl')
    const master = await openTunnel(['-i', key, '-M', '-S', control, ...at('fay')], origin.port)
    const token = await tokenFor('fay')
    const get = async () => (await fetch(`${gw.url}/t/fay/hello`, { headers: { authorization: `Bearer ${token}` } })).status
    expect(await exitCodeOf(ssh(['-S', control, '-O', 'cancel', '-R', `80:127.0.0.1:${origin.port}`, ...at('fay')]))).toBe(0)
    expect(await get()).toBe(404)
    expect(master.child.exitCode).toBeNull()
  }, 60_000)

  test('an RSA key signing with ssh-rsa (SHA-1) is refused; the same key with rsa-sha2-256 is accepted', async () => {
    const key = sshKeygen(keys, 'gus', 'rsa')
    await keysAdd(gw.dataDir, 'gus', `${key}.pub`)
    const sha1 = ssh(['-v', '-i', key, '-N', '-R', `80:127.0.0.1:${origin.port}`, ...at('gus')], {}, ['-o', 'PubkeyAcceptedAlgorithms=ssh-rsa'])
    expect(await exitCodeOf(sha1)).toBe(255)
    expect(sha1.output()).toContain('Permission denied')
    // Not rsa-sha2-512: ssh2's hard-coded server-sig-algs lacks a comma before it, so OpenSSH never
    // picks it (docs/STACK-FINDINGS.md); the gateway would accept it.
    for (const algo of ['rsa-sha2-256']) {
      const proc = await openTunnel(['-i', key, ...at('gus')], origin.port, {}, ['-o', `PubkeyAcceptedAlgorithms=${algo}`])
      proc.kill()
      await proc.exited()
    }
  }, 60_000)
})
