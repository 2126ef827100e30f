/**
 * The OpenSSH baseline: a private sshd (own config, host key, client key, authorized_keys, pid file,
 * all in a temp dir, listening on 127.0.0.1 on a free port) and `ssh -R` clients forwarding one of
 * its ports to the origin. Never the system's sshd.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort, spawnLogged, stopOwned, until, type OwnedProc } from './procs.ts'
import { SSHD } from './tools.ts'

export interface PrivateSshd {
  readonly proc: OwnedProc
  readonly port: number
  readonly dir: string
  readonly user: string
  readonly clientKey: string
}

/** Start sshd with its own config under `dir`; resolves once it accepts TCP connections. */
export async function startPrivateSshd(dir: string): Promise<PrivateSshd> {
  mkdirSync(dir, { recursive: true })
  const hostKey = join(dir, 'host_ed25519')
  const clientKey = join(dir, 'client_ed25519')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey])
  const authorized = join(dir, 'authorized_keys')
  writeFileSync(authorized, readFileSync(`${clientKey}.pub`), { mode: 0o600 })
  // Privilege separation wants this directory to exist (it is normally made by the service unit).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const port = await freePort()
  const config = join(dir, 'sshd_config')
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding remote',
      'GatewayPorts no',
      'X11Forwarding no',
      'AllowAgentForwarding no',
      'PrintMotd no',
      'UseDNS no',
      // Many bench connections may arrive at once; the default 10:30:100 would drop some.
      'MaxStartups 200',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  )
  const proc = spawnLogged('sshd', SSHD, ['-D', '-e', '-f', config], join(dir, 'sshd.log'))
  const ok = await until(async () => {
    if (proc.child.exitCode !== null) throw new Error('sshd exited')
    return await canConnect(port)
  }, 10_000, 20)
  if (!ok) {
    await stopOwned(proc)
    throw new Error(`Cannot start the private sshd on 127.0.0.1:${port}:\n${proc.log().slice(-2000)}`)
  }
  return { proc, port, dir, user: execFileSync('id', ['-un'], { encoding: 'utf8' }).trim(), clientKey }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** How the OpenSSH client is run: `-N` (no session, Nagle-bound) or with a session channel (NODELAY). */
export type SshFlavour = 'plain' | 'session'

export interface SshForward {
  readonly proc: OwnedProc
  /** The port on the sshd side that consumers hit. */
  readonly remotePort: number
}

/** Start `ssh -R <remotePort>:127.0.0.1:<originPort>` against the private sshd (does not wait). */
export async function startSshForward(sshd: PrivateSshd, originPort: number, flavour: SshFlavour, logFile: string): Promise<SshForward> {
  const remotePort = await freePort()
  const args = [
    '-T',
    '-p',
    String(sshd.port),
    '-i',
    sshd.clientKey,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'LogLevel=ERROR',
    '-F',
    '/dev/null',
    '-R',
    `127.0.0.1:${remotePort}:127.0.0.1:${originPort}`,
    ...(flavour === 'plain' ? ['-N'] : []),
    `${sshd.user}@127.0.0.1`,
    // The session channel makes both ends call ssh_packet_set_interactive(), which sets TCP_NODELAY.
    ...(flavour === 'session' ? ['sleep', '3600'] : []),
  ]
  const proc = spawnLogged(`ssh-${flavour}`, 'ssh', args, logFile)
  return { proc, remotePort }
}
