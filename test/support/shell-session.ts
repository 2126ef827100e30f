/**
 * One bash, fed commands one at a time as a user types them into a terminal: variables set by one
 * command (`TOKEN=$(…)`) are there for the next. Commands run with stdin from /dev/null, so none
 * can swallow the commands that follow. Long-running ones go to the background with their output
 * in a log file. Bash leads its own process group, so `close()` ends everything it started, also
 * what npm leaves orphaned.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface StepResult {
  readonly code: number
  readonly output: string
}

export interface ShellSession {
  /** Run `command` to completion in the session; stdout and stderr together. Rejects after `timeoutMs`. */
  run(command: string, timeoutMs: number): Promise<StepResult>
  /** Start `command` in the background; resolves with the first match of `ready` in its output. */
  start(command: string, ready: RegExp, timeoutMs: number): Promise<RegExpMatchArray>
  /** SIGTERM the whole process group, then SIGKILL what is left after `graceMs`. */
  close(graceMs?: number): Promise<void>
}

const SENTINEL = /\n__readme_rc=(\d+)__\n/
const BACKGROUND_PID = /\n__readme_bg=(\d+)__\n/

export function openShell(cwd: string, env: Record<string, string>, logDir: string): ShellSession {
  const bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  let out = ''
  let background = 0
  const listeners = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const l of listeners) l()
  }
  bash.stdout!.on('data', onData)
  bash.stderr!.on('data', onData)
  const exited = new Promise<void>((resolve) => bash.on('close', () => resolve()))
  bash.stdin!.write('exec 2>&1\n')

  /** Resolve with `test()` once defined; reject when `failed()` says why, or after `timeoutMs`. */
  function until<T>(test: () => T | undefined, timeoutMs: number, what: () => string, failed: () => string | undefined = () => undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const stop = (err: Error) => {
        clearTimeout(timer)
        clearInterval(poll)
        listeners.delete(check)
        reject(err)
      }
      const timer = setTimeout(() => stop(new Error(`timed out after ${timeoutMs} ms: ${what()}`)), timeoutMs)
      // Background output goes to files, which emit no events: poll those as well.
      const poll = setInterval(() => check(), 100)
      const check = () => {
        const value = test()
        if (value === undefined) {
          const why = failed()
          if (why !== undefined) stop(new Error(`${why}: ${what()}`))
          return
        }
        clearTimeout(timer)
        clearInterval(poll)
        listeners.delete(check)
        resolve(value)
      }
      listeners.add(check)
      check()
    })
  }

  return {
    async run(command, timeoutMs) {
      const from = out.length
      bash.stdin!.write(`{\n${command}\n} </dev/null\nprintf '\\n__readme_rc=%d__\\n' $?\n`)
      const m = await until(() => out.slice(from).match(SENTINEL) ?? undefined, timeoutMs, () => `${command}\n${out.slice(from).slice(-3000)}`)
      return { code: Number(m[1]), output: out.slice(from, from + m.index!) }
    },
    async start(command, ready, timeoutMs) {
      const log = join(logDir, `background-${++background}.log`)
      const from = out.length
      bash.stdin!.write(`{\n${command}\n} </dev/null >${JSON.stringify(log)} 2>&1 &\nprintf '\\n__readme_bg=%d__\\n' $!\n`)
      const pid = Number((await until(() => out.slice(from).match(BACKGROUND_PID) ?? undefined, 10_000, () => command))[1])
      const gone = () => {
        try {
          process.kill(pid, 0)
          return undefined
        } catch {
          return 'exited before it was ready'
        }
      }
      const read = () => {
        try {
          return readFileSync(log, 'utf8')
        } catch {
          return ''
        }
      }
      return until(() => read().match(ready) ?? undefined, timeoutMs, () => `${command}, waiting for ${ready}:\n${read().slice(-3000)}`, gone)
    },
    async close(graceMs = 5_000) {
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-bash.pid!, s)
        } catch {
          // The group is gone.
        }
      }
      signal('SIGTERM')
      const timer = setTimeout(() => signal('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
      // Bash is gone; its background children may outlive it in the group.
      signal('SIGKILL')
    },
  }
}
