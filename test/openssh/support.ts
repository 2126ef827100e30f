/**
 * Stock OpenSSH (`/usr/bin/ssh`, Debian openssh-client) against a real gateway process: keys made
 * with ssh-keygen in a temp dir, `ssh` spawned like any other test process (killed by stopAll()).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { patternChunk } from '../fixtures/pattern.ts'
import { runtimeCommand, startProcess, type Proc } from '../support/processes.ts'

/** Options every test connection uses: no host-key prompts or files, no password prompts, fail fast. */
export const SSH_BASE = [
  '-o', 'StrictHostKeyChecking=no',
  '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'BatchMode=yes',
  '-o', 'ExitOnForwardFailure=yes',
  '-o', 'IdentitiesOnly=yes',
  '-o', 'ConnectTimeout=10',
]

/** Generate an unencrypted key pair; returns the private key path (the public one is `${path}.pub`). */
export function sshKeygen(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519'): string {
  const path = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@test`, '-f', path])
  return path
}

/**
 * Spawn `ssh` with the base options (stdin is /dev/null, so no pty and no prompts). For ssh the
 * first value of an option wins: `overrides` go before the base options.
 */
export function ssh(args: string[], env: Record<string, string> = {}, overrides: string[] = []): Proc {
  return startProcess('ssh', [...overrides, ...SSH_BASE, ...args], env)
}

/** `ssh -v -N -R 80:127.0.0.1:<origin> …` and wait until the gateway accepted the forward. */
export async function openTunnel(target: string[], originPort: number, env: Record<string, string> = {}, overrides: string[] = []): Promise<Proc> {
  const proc = ssh(['-v', '-N', '-R', `80:127.0.0.1:${originPort}`, ...target], env, overrides)
  await proc.waitFor(/remote forward success/, 20_000)
  return proc
}

/** A ProxyCommand running this repo's `burrow ws-stdio` on Bun (paths have no spaces: tmp and repo). */
export function wsStdioProxy(gatewayUrl: string, args: string[]): string {
  const [cmd, cmdArgs] = runtimeCommand('bun', 'src/cli.ts', ['ws-stdio', gatewayUrl, ...args])
  return [cmd, ...cmdArgs].map((a) => `'${a}'`).join(' ')
}

/** The exit code of a process expected to end on its own. */
export async function exitCodeOf(proc: Proc, ms = 20_000): Promise<number | string> {
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms)
  const code = await proc.exited()
  clearTimeout(timer)
  return code
}

/** SHA-256 of the fixture's deterministic bytes 0..size. */
export function patternHash(size: number): string {
  const h = createHash('sha256')
  for (let off = 0; off < size; off += 64 * 1024) h.update(patternChunk(off, Math.min(64 * 1024, size - off)))
  return h.digest('hex')
}

/** A streamed request body of the fixture's deterministic bytes. */
export function patternBody(size: number): ReadableStream<Uint8Array> {
  let off = 0
  return new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (off >= size) return ctrl.close()
      const n = Math.min(256 * 1024, size - off)
      ctrl.enqueue(patternChunk(off, n))
      off += n
    },
  })
}
