/**
 * A private redis-server for one test file: on 127.0.0.1, on a free port, persisting nothing
 * (`--save '' --appendonly no`), in its own temp dir. Never a system-wide one: tests would see each
 * other's keys and a developer's data.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tempDir } from './processes.ts'

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly child: ChildProcess
  /** SIGKILL it and remove its dir (idempotent). */
  stop(): Promise<void>
}

/** A port nobody listens on right now (the kernel's pick for a throw-away listener). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/**
 * Start redis-server (Debian's package: `apt-get install redis-server`, as .ci/run does) and wait
 * until it accepts connections. Throws with its output when it does not start within 10 s: a
 * port taken between `freePort()` and its bind is retried up to 3 times.
 */
export async function startRedis(): Promise<RedisServer> {
  let last = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const dir = tempDir('burrow-redis-')
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000)
      const check = () => {
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve(true)
        }
      }
      child.stdout!.on('data', check)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve(false)
      })
      child.once('error', (err) => {
        out += String(err)
        clearTimeout(timer)
        resolve(false)
      })
    })
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
    if (ready) return { port, url: `redis://127.0.0.1:${port}`, child, stop }
    last = out
    await stop()
  }
  throw new Error(`redis-server did not start (is it installed? apt-get install redis-server):\n${last.slice(-2000)}`)
}
