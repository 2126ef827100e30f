/**
 * The native tools the bench drives: wrk (load generator, C, microsecond latencies), curl (bulk
 * client), and OpenSSH's sshd/ssh/ssh-keygen (the baseline). On a fresh Debian machine they are
 * installed with apt-get, which needs root; otherwise the message says what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export const SSHD = '/usr/sbin/sshd'

interface Tool {
  readonly path: string
  readonly pkg: string
}

const TOOLS: Record<string, Tool> = {
  wrk: { path: 'wrk', pkg: 'wrk' },
  curl: { path: 'curl', pkg: 'curl' },
  ssh: { path: 'ssh', pkg: 'openssh-client' },
  'ssh-keygen': { path: 'ssh-keygen', pkg: 'openssh-client' },
  sshd: { path: SSHD, pkg: 'openssh-server' },
}

function present(tool: Tool): boolean {
  if (tool.path.startsWith('/')) return existsSync(tool.path)
  return spawnSync('sh', ['-c', `command -v ${tool.path}`], { stdio: 'ignore' }).status === 0
}

/** Make sure the named tools exist, installing their Debian packages if needed. */
export function ensureTools(names: readonly string[], progress: (msg: string) => void): void {
  const missing = names.map((n) => TOOLS[n]!).filter((t) => !present(t))
  if (missing.length === 0) return
  const pkgs = [...new Set(missing.map((t) => t.pkg))]
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`Cannot run the bench: missing ${missing.map((t) => t.path).join(', ')}; install the Debian packages ${pkgs.join(' ')} (needs root)`)
  }
  progress(`installing ${pkgs.join(' ')} with apt-get`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update'], { stdio: 'ignore', env, timeout: 180_000 })
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { stdio: 'ignore', env, timeout: 300_000 })
  const still = missing.filter((t) => !present(t))
  if (still.length > 0) throw new Error(`Cannot run the bench: apt-get did not provide ${still.map((t) => t.path).join(', ')}`)
}

/** First line of `cmd --version`-like output, for the machine description. */
export function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '?'
}
