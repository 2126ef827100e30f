/**
 * The package as a Node user gets it: `npm pack` (which builds dist/ through `prepare`), the
 * tarball installed into an empty project, and Burrow run there under plain Node: no Bun, no tsx,
 * no TypeScript on PATH or in the project. Dependencies come from npm's cache where CI's `npm ci`
 * filled it (`--prefer-offline`), else from the registry.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { killGroup, runCommand, startCommand, userEnv, type CommandResult } from '../support/commands.ts'
import { ROOT, tempDir } from '../support/processes.ts'

interface PackEntry {
  readonly filename: string
  readonly size: number
  readonly unpackedSize: number
  readonly files: readonly { path: string }[]
}

const work = tempDir('burrow-pack-')
const project = join(work, 'consumer')
let packed: PackEntry

function explain(r: CommandResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`
}

async function mustRun(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<CommandResult> {
  const r = await runCommand(cmd, args, { cwd, env: userEnv(), timeoutMs })
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${explain(r)}`)
  return r
}

beforeAll(async () => {
  const pack = await mustRun('npm', ['pack', '--json', '--pack-destination', work], ROOT, 120_000)
  packed = (JSON.parse(pack.stdout) as PackEntry[])[0]!
  rmSync(project, { recursive: true, force: true })
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2))
  // @types/node: what any TypeScript project on Node has; the typecheck below needs it.
  await mustRun('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed.filename), '@types/node@^20'], project, 120_000)
}, 240_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('npm pack', () => {
  test('carries the build, the sources Bun and Deno run, and the bin; not tests, CI or benchmarks', () => {
    const paths = packed.files.map((f) => f.path)
    for (const needed of ['package.json', 'README.md', 'bin/burrow.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'src/index.ts', 'src/cli.ts']) {
      expect(paths).toContain(needed)
    }
    const unwanted = paths.filter((p) => /^(test|\.ci|docs\/BENCHMARKS|node_modules|deploy)\//.test(p) || p.startsWith('tsconfig') || p.endsWith('.test.ts'))
    expect(unwanted).toEqual([])
    // Every module of the build has its declaration next to it.
    const js = paths.filter((p) => p.startsWith('dist/') && p.endsWith('.js'))
    expect(js.length).toBeGreaterThan(10)
    expect(js.filter((p) => !paths.includes(p.replace(/\.js$/, '.d.ts')))).toEqual([])
  })

  test('the installed project has neither Bun nor tsx nor TypeScript', async () => {
    for (const name of ['bun', 'tsx', 'typescript', 'deno']) expect(existsSync(join(project, 'node_modules', name))).toBe(false)
    const which = await runCommand('sh', ['-c', 'command -v bun || command -v bunx || command -v tsx'], { cwd: project, env: userEnv(), timeoutMs: 5_000 })
    expect(which.stdout).toBe('')
    expect(which.code).not.toBe(0)
  })
})

describe('the installed package under plain Node', () => {
  test('npx burrow --help exits 0 with the usage', async () => {
    const r = await runCommand('npx', ['burrow', '--help'], { cwd: project, env: userEnv(), timeoutMs: 30_000 })
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toContain('Usage: burrow COMMAND')
    expect(r.stdout).toMatch(/^ {2}serve /m)
    expect(r.stdout).toMatch(/^ {2}connect --server URL/m)
  })

  test('burrow serve answers /healthz on Node and exits 0 on SIGTERM', async () => {
    const dataDir = join(work, 'data')
    const gw = startCommand(join(project, 'node_modules/.bin/burrow'), ['serve'], {
      cwd: project,
      env: userEnv({ PORT: '0', HOST: '127.0.0.1', BURROW_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }),
    })
    try {
      const m = await gw.waitFor(/Burrow gateway on http:\/\/127\.0\.0\.1:(\d+) \((\w+)\)/, 30_000)
      expect(m[2]).toBe('node')
      const res = await fetch(`http://127.0.0.1:${m[1]}/healthz`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok' })
      process.kill(gw.pid, 'SIGTERM')
      expect(await gw.exited).toBe(0)
      expect(existsSync(join(dataDir, 'ssh_host_ed25519_key'))).toBe(true)
    } finally {
      killGroup(gw.pid)
    }
  })

  test("import('burrow') gives createGateway, and importing starts nothing", async () => {
    const script = "const m = await import('burrow'); console.log(typeof m.createGateway, Object.keys(m).sort().join(','))"
    const r = await runCommand('node', ['--input-type=module', '-e', script], { cwd: project, env: userEnv(), timeoutMs: 30_000 })
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout.split(' ')[0]).toBe('function')
    // The process exited by itself: an import that opened a listener or a timer would hang here.
  })
})

describe('TypeScript users', () => {
  test("strict + NodeNext compiles against Burrow's .d.ts without errors (skipLibCheck off)", async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, types: ['node'] },
        include: ['main.ts'],
      }),
    )
    // Touches the public API's shapes so a wrong declaration would show, not only a missing one.
    writeFileSync(
      join(project, 'main.ts'),
      [
        "import { createGateway, signToken, type Gateway } from 'burrow'",
        'const gw: Gateway = createGateway({ port: 0 })',
        'const stopped: Promise<void> = gw.stop()',
        "const token: Promise<string> = signToken('0123456789abcdef0123456789abcdef', 'alice', 60)",
        'export { gw, stopped, token }',
        '',
      ].join('\n'),
    )
    // The repository's own compiler, run by path: the consumer project stays free of TypeScript.
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    const r = await runCommand('node', [tsc, '-p', project], { cwd: project, env: userEnv(), timeoutMs: 60_000 })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.code).toBe(0)
  })
})
