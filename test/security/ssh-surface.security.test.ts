import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import ssh2, { type Algorithms, type ClientChannel } from 'ssh2'
import { SSH_ALGORITHMS } from '../../src/transport/ssh-algorithms.ts'
import { stopAll, tempDir } from '../support/processes.ts'
import { expectHonestTunnel, sshPortOf, startStage, type Stage } from './support/harness.ts'
import { refused, sshOverTcp, sshOverWebSocket, type SshSession } from './support/ssh-client.ts'

afterAll(stopAll)

/**
 * What an authenticated SSH session may ask of the gateway is only what a tunnel needs. A custom
 * client (ssh2 here, with strictVendor off so it sends OpenSSH extensions to a non-OpenSSH server)
 * asks for everything else, over the /tunnel WebSocket and over SSH_PORT alike.
 */
describe('SSH surface (gateway on bun)', () => {
  let stage: Stage
  let sshPort: number
  const marker = join(tempDir('burrow-marker-'), 'pwned')

  beforeAll(async () => {
    stage = await startStage('bun', { SSH_PORT: '0', LOG_LEVEL: 'warn' })
    sshPort = await sshPortOf(stage.gw)
  })

  const transports: [string, () => Promise<SshSession>][] = [
    ['WebSocket', () => sshOverWebSocket(stage.gw.port, stage.alice, { username: 'alice' })],
    ['SSH_PORT', () => sshOverTcp(sshPort, { username: 'alice', password: stage.alice })],
  ]

  for (const [name, open] of transports) {
    test(`over ${name}: exec, subsystems, sftp, direct-tcpip, streamlocal and X11 are refused, nothing runs, no connection leaves the gateway`, async () => {
      // A loopback service the attacker would like the gateway to connect to (SSRF).
      let reached = 0
      const target = createServer((s) => {
        reached++
        s.destroy()
      })
      await new Promise<void>((r) => target.listen(0, '127.0.0.1', r))
      const targetPort = (target.address() as { port: number }).port
      const s = await open()
      const c = s.client
      const outcomes = {
        exec: await refused((cb) => c.exec(`touch ${marker}`, cb)),
        subsystem: await refused((cb) => c.subsys('netconf', cb)),
        sftp: await refused((cb) => c.sftp(cb)),
        directTcpip: await refused((cb) => c.forwardOut('127.0.0.1', 12345, '127.0.0.1', targetPort, cb)),
        streamlocalOut: await refused((cb) => c.openssh_forwardOutStreamLocal('/var/run/docker.sock', cb)),
        streamlocalIn: await refused((cb) => c.openssh_forwardInStreamLocal('/tmp/burrow-attack.sock', cb)),
        x11: await refused((cb) => c.exec('true', { x11: true }, cb)),
      }
      expect(outcomes).toEqual({
        exec: 'refused',
        subsystem: 'refused',
        sftp: 'refused',
        directTcpip: 'refused',
        streamlocalOut: 'refused',
        streamlocalIn: 'refused',
        x11: 'refused',
      })
      c.end()
      await s.closed
      target.close()
      expect(reached).toBe(0)
      expect(existsSync(marker)).toBe(false)
      await expectHonestTunnel(stage, expect)
    })

    test(`over ${name}: a shell shows the tunnel's status and runs nothing that is typed`, async () => {
      const s = await open()
      const channel = await new Promise<ClientChannel>((resolve, reject) => s.client.shell((err, ch) => (err ? reject(err) : resolve(ch))))
      let shown = ''
      channel.on('data', (d: Buffer) => (shown += d.toString()))
      channel.write(`touch ${marker}; echo pwned-$((6*7))\n`)
      channel.write('\u0004')
      await new Promise((r) => channel.once('close', r))
      expect(shown).toContain('Burrow tunnel for alice')
      expect(shown).not.toContain('pwned-42')
      expect(existsSync(marker)).toBe(false)
      s.client.end()
      await s.closed
      await expectHonestTunnel(stage, expect)
    })
  }

  test('agent forwarding is refused', async () => {
    const s = await sshOverWebSocket(stage.gw.port, stage.alice, { username: 'alice' })
    // ssh2 asks for agent forwarding before the command when the connection allows it.
    ;(s.client as unknown as { config: { allowAgentFwd: boolean } }).config.allowAgentFwd = true
    expect(await refused((cb) => s.client.exec('true', { agentForward: true } as never, cb))).toBe('refused')
    s.client.end()
    await s.closed
    await stage.gw.proc.waitFor(/"event":"ssh_refused".*"what":"auth-agent"/, 5000)
  })

  test('weak or SHA-1 algorithms are never negotiated', async () => {
    const weak: [string, Algorithms][] = [
      ['SHA-1 key exchange', { ...SSH_ALGORITHMS, kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'] }],
      ['CBC ciphers', { ...SSH_ALGORITHMS, cipher: ['aes128-cbc', '3des-cbc'] }],
      ['CTR with an SHA-1 MAC', { ...SSH_ALGORITHMS, cipher: ['aes128-ctr'], hmac: ['hmac-sha1'] }],
      ['an RSA/SHA-1 host key', { ...SSH_ALGORITHMS, serverHostKey: ['ssh-rsa', 'ssh-dss'] }],
    ]
    for (const [what, algorithms] of weak) {
      const outcome = await sshOverTcp(sshPort, { username: 'alice', password: stage.alice, algorithms }).then(
        (s) => (s.client.end(), 'negotiated'),
        (err: Error) => err.message,
      )
      // The handshake fails on the server's offer, not on something the client could not send.
      expect({ what, outcome }).toEqual({ what, outcome: expect.stringMatching(/^Handshake failed: no matching /) })
    }
    await expectHonestTunnel(stage, expect)
  })

  test('password guessing stops after 6 failures on one connection', async () => {
    const client = new ssh2.Client()
    let attempts = 0
    const ended = new Promise<string>((resolve) => {
      client.on('error', (err: Error) => resolve(err.message))
      client.on('close', () => resolve('closed'))
    })
    client.connect({
      host: '127.0.0.1',
      port: sshPort,
      username: 'alice',
      algorithms: SSH_ALGORITHMS,
      // Keep guessing for as long as the server lets us.
      authHandler: (_methods, _partial, next) => {
        attempts++
        if (attempts > 50) return next(false as never)
        next({ type: 'password', username: 'alice', password: `guess-${attempts}` })
      },
    })
    await ended
    expect(attempts).toBeLessThanOrEqual(7)
    await expectHonestTunnel(stage, expect)
  })
})
