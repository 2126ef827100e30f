/**
 * A third-party origin for the differential tests: Debian's `python3-httpbin` served by `gunicorn`,
 * as its own process on 127.0.0.1. Nothing of ours runs inside it, so what it answers directly is
 * what a real app answers, and any difference through the tunnel is the tunnel's doing.
 */
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { startProcess, type Proc } from './processes.ts'

/** What to run on a Debian machine when gunicorn or httpbin is missing (also in `.ci/run`). */
export const HTTPBIN_INSTALL = 'apt-get install -y --no-install-recommends python3-httpbin gunicorn'

export interface Httpbin {
  readonly proc: Proc
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** SIGTERM (gunicorn's graceful stop, which also ends its workers), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

const ATTEMPTS = 5
const READY_MS = 20_000

/**
 * Start httpbin under gunicorn on a free 127.0.0.1 port and wait until it answers `GET /get`.
 * `gunicorn -b 127.0.0.1:0` does not report the port it got, so a port is picked here (bind :0,
 * read it, close) and gunicorn is retried on another one if something took it meanwhile, at most
 * 5 times. Throws, saying what to install, when gunicorn or the httpbin module is missing: the
 * differential suite must fail loudly rather than skip.
 */
export async function startHttpbin(): Promise<Httpbin> {
  const probe = spawnSync('gunicorn', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`Cannot start httpbin: gunicorn is not installed (${probe.error?.message ?? probe.stderr.trim()}). On Debian: ${HTTPBIN_INSTALL}`)
  }
  let last = ''
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const port = await freePort()
    // gthread: several requests at once (the sync worker serves one at a time, and /drip holds it).
    const proc = startProcess('gunicorn', ['-b', `127.0.0.1:${port}`, '-k', 'gthread', '--threads', '16', '--graceful-timeout', '2', '--log-level', 'info', 'httpbin:app'])
    const outcome = await readiness(proc, port)
    if (outcome === 'ready') return { proc, port, url: `http://127.0.0.1:${port}`, stop: (graceMs) => stopProc(proc, graceMs) }
    await stopProc(proc, 2_000)
    last = proc.output().slice(-2000)
    if (outcome === 'missing-module') {
      throw new Error(`Cannot start httpbin: gunicorn runs, but the Python module httpbin is missing. On Debian: ${HTTPBIN_INSTALL}\n${last}`)
    }
    if (outcome !== 'port-taken') break
  }
  throw new Error(`Cannot start httpbin under gunicorn:\n${last}`)
}

type Readiness = 'ready' | 'port-taken' | 'missing-module' | 'failed'

async function readiness(proc: Proc, port: number): Promise<Readiness> {
  const deadline = Date.now() + READY_MS
  while (Date.now() < deadline) {
    const out = proc.output()
    if (/No module named '?httpbin/.test(out)) return 'missing-module'
    if (/Connection in use|Address already in use/.test(out)) return 'port-taken'
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return 'failed'
    try {
      const res = await fetch(`http://127.0.0.1:${port}/get`, { signal: AbortSignal.timeout(1_000) })
      await res.arrayBuffer()
      if (res.status === 200) return 'ready'
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return 'failed'
}

async function stopProc(proc: Proc, graceMs = 5_000): Promise<void> {
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
  await proc.exited()
  clearTimeout(timer)
}

/** A port that was free a moment ago on 127.0.0.1 (another process may still take it: retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      server.close(() => resolve(port))
    })
  })
}
