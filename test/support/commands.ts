/**
 * Commands as a user types them, for the package and README tests: run to completion with a
 * bounded time, in a chosen directory, with an environment built from scratch rather than the
 * test runner's (which `npx bun test` gives `node_modules/.bin`, hence `bun` and `tsx`, on PATH).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'

export interface CommandResult {
  /** Exit code, or the signal's name when a signal ended it. */
  readonly code: number | string
  readonly stdout: string
  readonly stderr: string
}

/**
 * Run `cmd args` in `cwd` with exactly `env`, wait for it to exit. A command still running after
 * `timeoutMs` is killed (SIGKILL, its whole process group) and the result says `timeout`.
 */
export function runCommand(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs: number; input?: string }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdin!.end(opts.input ?? '')
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child.pid)
    }, opts.timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: timedOut ? 'timeout' : (code ?? signal ?? -1), stdout, stderr })
    })
  })
}

/** SIGKILL a detached child's process group (the command and whatever it started). */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

/** PATH without any directory that holds a `bun`, `bunx` or `tsx` executable. */
export function pathWithoutBunOrTsx(path = process.env.PATH ?? ''): string {
  return path
    .split(delimiter)
    .filter((dir) => dir !== '' && !['bun', 'bunx', 'tsx'].some((name) => existsSync(join(dir, name))))
    .join(delimiter)
}

/**
 * An environment a user's fresh shell would have: PATH (minus Bun and tsx), HOME, and the npm
 * cache CI filled, so `npm install` can prefer it. Nothing of the test runner's npm or Bun variables.
 */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: pathWithoutBunOrTsx(), HOME: process.env.HOME ?? '/root', NO_COLOR: '1' }
  for (const name of ['TMPDIR', 'LANG', 'npm_config_cache', 'NPM_CONFIG_CACHE', 'CI']) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return { ...env, ...extra }
}

export interface Running {
  readonly pid: number
  /** Everything printed so far (stdout + stderr). */
  output(): string
  /** Resolve with the first match of `re` in the output; reject after `ms` or when the process exits. */
  waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray>
  /** Resolve with the exit code (or signal name). */
  exited: Promise<number | string>
}

/** Start a long-running command (a gateway) in its own process group; stop it with `process.kill`. */
export function startCommand(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Running {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  const listeners = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const l of listeners) l()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)))
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    waitFor(re, ms) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        const check = () => {
          const m = out.match(re)
          if (m !== null) {
            done()
            resolve(m)
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`timed out after ${ms} ms waiting for ${re}; output:\n${out.slice(-3000)}`))
        }, ms)
        listeners.add(check)
        check()
        exited.then((code) => {
          if (out.match(re) !== null) return check()
          done()
          reject(new Error(`${cmd} exited (${code}) before printing ${re}; output:\n${out.slice(-3000)}`))
        })
      })
    },
  }
}

/** A TCP port free on 127.0.0.1 a moment ago, for a process that must be told its port up front. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}
