/**
 * Processes the bench owns, and what /proc says about them: CPU ticks, resident memory, the
 * process tree. Everything spawned here is remembered and killed by `killOwned()`, on success,
 * error or Ctrl-C alike.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:net'

export interface OwnedProc {
  readonly child: ChildProcess
  readonly pid: number
  readonly name: string
  /** Where its stdout and stderr go (a file: a busy process must never block on a full pipe). */
  readonly logFile: string
  exited(): Promise<number | string>
  log(): string
}

const owned = new Set<OwnedProc>()

/** Spawn `cmd` with stdout+stderr appended to `logFile`; it is killed by `killOwned()`. */
export function spawnLogged(name: string, cmd: string, args: string[], logFile: string, env: Record<string, string> = {}): OwnedProc {
  const fd = openSync(logFile, 'a')
  const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const exit = new Promise<number | string>((resolve) => {
    child.on('exit', (code, sig) => resolve(code ?? sig ?? -1))
    child.on('error', () => resolve(-1))
  })
  const proc: OwnedProc = {
    child,
    pid: child.pid ?? -1,
    name,
    logFile,
    exited: () => exit,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8')
      } catch {
        return ''
      }
    },
  }
  owned.add(proc)
  exit.then(() => owned.delete(proc))
  return proc
}

/** Kill a process and everything below it (sshd forks per connection; tsx may fork). */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const p of [...descendants(pid), pid].reverse()) {
    try {
      process.kill(p, signal)
    } catch {}
  }
}

/** Kill every process the bench spawned itself (with its children) and wait for them to go. */
export async function killOwned(): Promise<void> {
  const procs = [...owned]
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) killTree(p.pid)
  await Promise.race([Promise.all(procs.map((p) => p.exited())), sleep(3000)])
}

export async function stopOwned(proc: OwnedProc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) killTree(proc.pid)
  await Promise.race([proc.exited(), sleep(3000)])
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A port that was free a moment ago on 127.0.0.1 (for programs that cannot bind port 0 and say which). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may itself hold spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(rest[1])
  } catch {
    return undefined
  }
}

/** All live descendants of `pid` (children, grandchildren, …). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const p = Number(entry)
    const parent = parentOf(p)
    if (parent === undefined) continue
    const list = children.get(parent) ?? []
    list.push(p)
    children.set(parent, list)
  }
  const out: number[] = []
  const stack = [pid]
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c)
      stack.push(c)
    }
  }
  return out
}

/** `pid` and its descendants. */
export function tree(pid: number): number[] {
  return [pid, ...descendants(pid)]
}

let clockTicks: number | undefined
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** CPU seconds (user + system) used so far by each pid; a gone pid counts 0. */
export function cpuSeconds(pids: readonly number[]): Map<number, number> {
  const hz = ticksPerSecond()
  const out = new Map<number, number>()
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime and stime are fields 14 and 15 of /proc/<pid>/stat, i.e. 12 and 13 after the name.
      out.set(pid, (Number(rest[11]) + Number(rest[12])) / hz)
    } catch {
      out.set(pid, 0)
    }
  }
  return out
}

/** CPU seconds spent by `pids` between two `cpuSeconds()` readings. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0
  for (const [pid, end] of after) total += Math.max(0, end - (before.get(pid) ?? 0))
  return total
}

/** Resident set size in KiB (VmRSS) of one process, or 0 if it is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

/** Summed VmRSS of several processes, KiB. */
export function rssSumKiB(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + rssKiB(pid), 0)
}

/** Wait until `probe` resolves true, polling every `everyMs`; false on timeout. */
export async function until(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true
    await sleep(everyMs)
  }
  return false
}
