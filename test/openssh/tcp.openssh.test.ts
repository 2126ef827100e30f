import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import { startGateway, startOrigin, stopAll, tempDir, runtimeCommand, startProcess, type GatewayProc, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { exitCodeOf, openTunnel, patternBody, patternHash, ssh, sshKeygen } from './support.ts'
import { trafficTests } from './traffic.ts'

/** `burrow keys add USER KEYFILE` against the gateway's data dir, as an operator would run it. */
async function keysAdd(dataDir: string, user: string, pubFile: string): Promise<string> {
  const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['keys', 'add', user, pubFile])
  const proc = startProcess(cmd, args, { BURROW_DATA_DIR: dataDir })
  expect(await proc.exited()).toBe(0)
  return proc.output()
}

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise((r) => srv.close(r))
  return port
}

describe('stock OpenSSH over raw TCP (SSH_PORT)', () => {
  let origin: Origin
  let gw: GatewayProc
  let sshPort: number
  let keys: string
  let aliceKey: string
  let carolKey: string
  let strangerKey: string
  let aliceToken: string
  const at = (user: string) => ['-p', String(sshPort), `${user}@127.0.0.1`]

  beforeAll(async () => {
    keys = tempDir('burrow-ssh-keys-')
    aliceKey = sshKeygen(keys, 'alice')
    carolKey = sshKeygen(keys, 'carol', 'rsa')
    strangerKey = sshKeygen(keys, 'stranger')
    ;[origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { SSH_PORT: '0', LOG_LEVEL: 'info', QUEUE_TIMEOUT: '30000' })])
    sshPort = Number((await gw.proc.waitFor(/SSH listener: \S+:(\d+)/))[1])
    expect(await keysAdd(gw.dataDir, 'alice', `${aliceKey}.pub`)).toMatch(/^added SHA256:\S+ ssh-ed25519 alice@test/)
    await keysAdd(gw.dataDir, 'carol', `${carolKey}.pub`)
    aliceToken = await tokenFor('alice')
    // Two OpenSSH connections for alice: requests spread over both, as with `--connections 2`.
    await Promise.all([openTunnel(['-i', aliceKey, ...at('alice')], origin.port), openTunnel(['-i', aliceKey, ...at('alice')], origin.port)])
  })
  afterAll(stopAll)

  trafficTests(() => ({ base: `${gw.url}/t/alice`, token: aliceToken }))

  test('a plain ssh -R (no -N) gets the status display, and the tunnel works meanwhile', async () => {
    const dave = sshKeygen(keys, 'dave')
    await keysAdd(gw.dataDir, 'dave', `${dave}.pub`)
    const proc = ssh(['-i', dave, '-R', `80:127.0.0.1:${origin.port}`, ...at('dave')])
    await proc.waitFor(/Burrow tunnel for dave[\s\S]*URL: +\/t\/dave\/[\s\S]*connections: +1 of 3[\s\S]*executes nothing/)
    const res = await fetch(`${gw.url}/t/dave/hello`, { headers: { authorization: `Bearer ${await tokenFor('dave')}` } })
    expect(await res.text()).toBe('hello from origin ')
    proc.kill()
  })

  test('a 4th OpenSSH session of the same user is refused, and ssh -v shows why', async () => {
    const three = []
    for (let i = 0; i < 3; i++) three.push(await openTunnel(['-i', carolKey, ...at('carol')], origin.port))
    const fourth = ssh(['-v', '-N', '-R', `80:127.0.0.1:${origin.port}`, '-i', carolKey, ...at('carol')])
    expect(await exitCodeOf(fourth)).toBe(255)
    expect(fourth.output()).toContain('Received disconnect from 127.0.0.1 port')
    expect(fourth.output()).toContain('user connection limit (3)')
    // With -N there is no session, so no status display either.
    for (const p of three) expect(p.output()).not.toContain('Burrow tunnel')
  })

  test('a key not on file is refused like an unknown user: no hint which', async () => {
    const wrongKey = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, '-i', strangerKey, ...at('alice')])
    const unknownUser = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, '-i', aliceKey, ...at('mallory')])
    // alice's key does not make anyone else alice: the user name must own the key.
    const otherUsersKey = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, '-i', aliceKey, ...at('carol')])
    for (const p of [wrongKey, unknownUser, otherUsersKey]) {
      expect(await exitCodeOf(p)).toBe(255)
      expect(p.output()).toMatch(/Permission denied \(publickey,password\)/)
    }
  })

  test('a token works as the SSH password; another user\'s token does not', async () => {
    const dir = tempDir('burrow-askpass-')
    const askpass = (token: string, name: string) => {
      const path = join(dir, name)
      writeFileSync(join(dir, `${name}.token`), token)
      writeFileSync(path, `#!/bin/sh\ncat '${path}.token'\n`)
      chmodSync(path, 0o700)
      return { SSH_ASKPASS: path, SSH_ASKPASS_REQUIRE: 'force' }
    }
    const passwordOnly = ['-o', 'BatchMode=no', '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1']
    const erin = await tokenFor('erin')
    await openTunnel(at('erin'), origin.port, askpass(erin, 'erin'), passwordOnly)
    const res = await fetch(`${gw.url}/t/erin/hello?pw=1`, { headers: { authorization: `Bearer ${erin}` } })
    expect(await res.text()).toBe('hello from origin ?pw=1')

    const stolen = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, ...at('frank')], askpass(erin, 'frank'), passwordOnly)
    expect(await exitCodeOf(stolen)).toBe(255)
    expect(stolen.output()).toMatch(/Permission denied/)
  })

  test('exec is refused and nothing runs', async () => {
    const proc = ssh(['-i', aliceKey, ...at('alice'), 'whoami'])
    expect(await exitCodeOf(proc)).toBe(255)
    expect(proc.output()).toContain('exec request failed')
    expect(proc.output()).not.toMatch(/^root$/m)
    await gw.proc.waitFor(/"event":"ssh_refused".*"what":"exec \\"whoami\\""/)
  })

  test('sftp is refused', async () => {
    const proc = ssh(['-s', '-i', aliceKey, ...at('alice'), 'sftp'])
    expect(await exitCodeOf(proc)).toBe(255)
    expect(proc.output()).toContain('subsystem request failed')
  })

  test('ssh -L (direct-tcpip) is refused: the gateway opens no outbound connection', async () => {
    const local = await freePort()
    const proc = ssh(['-v', '-N', '-L', `${local}:127.0.0.1:${origin.port}`, '-i', aliceKey, ...at('alice')])
    await proc.waitFor(new RegExp(`Local forwarding listening on 127\\.0\\.0\\.1 port ${local}`))
    // ssh prints that line before its main loop runs; a connection made then was seen to go
    // unhandled once in CI, so wait for the loop and try a few times (bounded) until ssh reports
    // the gateway's refusal.
    await proc.waitFor(/Entering interactive session/)
    // A raw socket, not fetch: a pooled keep-alive connection of fetch could answer from elsewhere.
    const attempt = () =>
      new Promise<string>((resolve) => {
        const sock = connect({ host: '127.0.0.1', port: local })
        let got = ''
        sock.on('data', (d: Buffer) => (got += d.toString()))
        sock.on('error', () => {})
        sock.on('close', () => resolve(got))
        sock.on('connect', () => sock.write('GET /hello HTTP/1.1\r\nhost: x\r\n\r\n'))
        setTimeout(() => sock.destroy(), 3_000)
      })
    for (let i = 0; i < 4 && !/channel \d+: open failed/.test(proc.output()); i++) {
      // ssh accepted locally, the gateway refused the channel, ssh hung up: no HTTP came back.
      expect(await attempt()).toBe('')
    }
    await proc.waitFor(/channel \d+: open failed/)
    await gw.proc.waitFor(new RegExp(`"event":"ssh_refused".*"what":"direct-tcpip to 127\\.0\\.0\\.1:${origin.port}"`))
    proc.kill()
  })

  test('the host key pins in known_hosts as README shows; a different key is refused', async () => {
    const hostKey = execFileSync('ssh-keygen', ['-y', '-f', join(gw.dataDir, 'ssh_host_ed25519_key')], { encoding: 'utf8' }).trim()
    const dir = tempDir('burrow-known-hosts-')
    const pinned = join(dir, 'known_hosts')
    writeFileSync(pinned, `[127.0.0.1]:${sshPort} ${hostKey}\n`)
    const strict = (file: string) => ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${file}`]
    const ok = ssh(['-v', '-N', '-R', `80:127.0.0.1:${origin.port}`, '-i', aliceKey, ...at('alice')], {}, strict(pinned))
    await ok.waitFor(/Host '\[127\.0\.0\.1\]:\d+' is known and matches the ED25519 host key/)
    await ok.waitFor(/remote forward success/)
    ok.kill()
    const other = join(dir, 'other_known_hosts')
    writeFileSync(other, `[127.0.0.1]:${sshPort} ${readFileSync(`${strangerKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`)
    const mismatch = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, '-i', aliceKey, ...at('alice')], {}, strict(other))
    expect(await exitCodeOf(mismatch)).toBe(255)
    expect(mismatch.output()).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED')
  })

  test('-R with port 0 is answered as 80 and reaches the same tunnel', async () => {
    const gina = sshKeygen(keys, 'gina', 'ecdsa')
    await keysAdd(gw.dataDir, 'gina', `${gina}.pub`)
    const proc = ssh(['-N', '-R', `0.0.0.0:0:127.0.0.1:${origin.port}`, '-i', gina, ...at('gina')])
    await proc.waitFor(/Allocated port 80 for remote forward/)
    const res = await fetch(`${gw.url}/t/gina/hello?p=0`, { headers: { authorization: `Bearer ${await tokenFor('gina')}` } })
    expect(await res.text()).toBe('hello from origin ?p=0')
  })
})

describe('SSH_PORT on Deno and Node (node:net differs per runtime)', () => {
  afterAll(stopAll)

  test.each(['deno', 'node'] as const)('ssh -R through a gateway on %s: GET, POST, the limit reason, and SIGTERM disconnects with a reason', async (runtime) => {
    const keys = tempDir('burrow-ssh-keys-')
    const key = sshKeygen(keys, 'alice')
    const [origin, gw] = await Promise.all([startOrigin(), startGateway(runtime, { SSH_PORT: '0', MAX_CONNECTIONS_PER_USER: '1' })])
    const sshPort = Number((await gw.proc.waitFor(/SSH listener: \S+:(\d+)/))[1])
    await keysAdd(gw.dataDir, 'alice', `${key}.pub`)
    const target = ['-i', key, '-p', String(sshPort), 'alice@127.0.0.1']
    const tunnel = await openTunnel(target, origin.port)
    const auth = { authorization: `Bearer ${await tokenFor('alice')}` }
    expect(await (await fetch(`${gw.url}/t/alice/hello?rt=${runtime}`, { headers: auth })).text()).toBe(`hello from origin ?rt=${runtime}`)
    const size = 1024 * 1024
    const posted = await fetch(`${gw.url}/t/alice/sha256`, { method: 'POST', headers: auth, body: patternBody(size), duplex: 'half' } as RequestInit)
    expect(await posted.json()).toEqual({ size, sha256: patternHash(size) })
    const second = ssh(['-N', '-R', `80:127.0.0.1:${origin.port}`, ...target])
    expect(await exitCodeOf(second)).toBe(255)
    expect(second.output()).toContain('user connection limit (1)')
    gw.proc.kill('SIGTERM')
    expect(await exitCodeOf(gw.proc)).toBe(0)
    expect(await exitCodeOf(tunnel)).toBe(255)
    expect(tunnel.output()).toContain('server shutting down')
  })
})
