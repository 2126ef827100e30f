/**
 * Real processes for e2e tests: the origin, the gateway (on Bun, Deno or Node) and agents, each
 * spawned from the repo's own entry points, on 127.0.0.1 with ephemeral ports, killed by `stopAll()`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dir, '../..')
const BUN = process.execPath
const DENO = join(ROOT, 'node_modules/deno/deno')
const NODE = 'node'

export type RuntimeName = 'bun' | 'deno' | 'node'

/**
 * Command line that runs a TypeScript entry point on `runtime`. With `built`, Node runs the build
 * instead (`src/x.ts` → `dist/x.js`, what `node dist/cli.js serve` users run; call `ensureBuilt()`
 * from test/support/build.ts first); Bun and Deno always run the sources, as users do.
 */
export function runtimeCommand(runtime: RuntimeName, script: string, args: string[], opts: { built?: boolean } = {}): [string, string[]] {
  const entry = join(ROOT, script)
  if (runtime === 'node' && opts.built === true) {
    return [NODE, [join(ROOT, script.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')), ...args]]
  }
  switch (runtime) {
    case 'bun':
      return [BUN, [entry, ...args]]
    case 'deno':
      return [DENO, ['run', '-A', entry, ...args]]
    case 'node':
      return [NODE, ['--import', 'tsx', entry, ...args]]
  }
}

export interface Proc {
  readonly child: ChildProcess
  /** Everything printed so far (stdout + stderr). */
  output(): string
  /** What was printed on stderr alone so far. */
  stderr(): string
  /** Resolve with the first match of `re` in the output, or reject after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>
  /** Resolve with the exit code (or signal name). */
  exited(): Promise<number | string>
  kill(signal?: NodeJS.Signals): void
}

const running = new Set<Proc>()

/** Spawn a process and keep its output for assertions. */
export function startProcess(cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const w of waiters) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
    onData(d)
  })
  const exit = new Promise<number | string>((r) => child.on('exit', (code, sig) => r(code ?? sig ?? -1)))
  const proc: Proc = {
    child,
    output: () => out,
    stderr: () => err,
    waitFor(re, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re)
          if (m !== null) {
            cleanup()
            resolve(m)
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`timed out after ${ms} ms waiting for ${re} in output of ${cmd} ${args.join(' ')}:\n${out.slice(-3000)}`))
        }, ms)
        const onExit = () => {
          setTimeout(() => {
            if (out.match(re) !== null) return check()
            cleanup()
            reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) while waiting for ${re}:\n${out.slice(-3000)}`))
          }, 50)
        }
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
          child.off('exit', onExit)
        }
        waiters.add(check)
        child.once('exit', onExit)
        check()
      })
    },
    exited: () => exit,
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
  }
  running.add(proc)
  exit.then(() => running.delete(proc))
  return proc
}

/** Kill every process this test file started and wait for them to go. */
export async function stopAll(): Promise<void> {
  const procs = [...running]
  for (const p of procs) p.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited()))
}

export function tempDir(prefix = 'burrow-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** A secret shared by the gateway and the test (to mint tokens). */
export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnop'
export const TEST_ADMIN_TOKEN = 'admin-token-0123456789abcdef'

export interface Origin {
  readonly proc: Proc
  readonly port: number
  readonly url: string
}

export async function startOrigin(runtime: RuntimeName = 'bun', keepAliveTimeoutMs = 5000): Promise<Origin> {
  const [cmd, args] = runtimeCommand(runtime, 'test/fixtures/origin.ts', ['0', String(keepAliveTimeoutMs)])
  const proc = startProcess(cmd, args)
  const m = await proc.waitFor(/listening (\d+)/)
  const port = Number(m[1])
  return { proc, port, url: `http://127.0.0.1:${port}` }
}

export interface GatewayProc {
  readonly proc: Proc
  readonly port: number
  readonly url: string
  readonly fingerprint: string
  readonly dataDir: string
}

/**
 * Start `burrow serve` on `runtime` on 127.0.0.1 with an ephemeral port and the test secrets, and
 * wait (30 s) for its banner. `opts.built`: on Node run dist/ (see `runtimeCommand`); `opts.entry`:
 * another entry point that runs src/cli.ts (a fixture).
 */
export async function startGateway(runtime: RuntimeName = 'bun', env: Record<string, string> = {}, opts: { built?: boolean; entry?: string } = {}): Promise<GatewayProc> {
  const dataDir = env.BURROW_DATA_DIR ?? tempDir()
  const [cmd, args] = runtimeCommand(runtime, opts.entry ?? 'src/cli.ts', ['serve'], opts)
  const proc = startProcess(cmd, args, {
    PORT: '0',
    HOST: '127.0.0.1',
    BURROW_DATA_DIR: dataDir,
    BURROW_SECRET: TEST_SECRET,
    BURROW_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    ...env,
  })
  // https when TLS_CERT_FILE is set; the URL always names 127.0.0.1 (the test certificates do too).
  const m = await proc.waitFor(/Burrow gateway on (https?):\/\/[^:]+:(\d+)/, 30_000)
  const fp = await proc.waitFor(/SSH host key: (SHA256:\S+)/)
  const port = Number(m[2])
  return { proc, port, url: `${m[1]}://127.0.0.1:${port}`, fingerprint: fp[1]!, dataDir }
}

export interface AgentProc {
  readonly proc: Proc
}

/** Start an agent and (by default) wait until all its connections are up. */
export async function startAgent(
  gatewayUrl: string,
  token: string,
  to: string,
  opts: { connections?: number | 'auto'; extra?: string[]; env?: Record<string, string>; wait?: boolean; runtime?: RuntimeName } = {},
): Promise<AgentProc> {
  const n = opts.connections ?? 1
  const [cmd, args] = runtimeCommand(opts.runtime ?? 'bun', 'src/cli.ts', [
    'connect',
    '--server',
    gatewayUrl,
    '--token',
    token,
    '--to',
    to,
    '--connections',
    String(n),
    ...(opts.extra ?? []),
  ])
  const proc = startProcess(cmd, args, opts.env ?? {})
  // An auto agent starts with one connection: `connected (1/1, up to 3 when busy)`.
  const up = n === 'auto' ? /connected \(1\/1[,)]/ : new RegExp(`connected \\(${n}/${n}\\)`)
  if (opts.wait !== false) await proc.waitFor(up, 30_000)
  return { proc }
}
