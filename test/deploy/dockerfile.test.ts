/**
 * The Dockerfile, checked without a Docker engine (these machines have none): linted by
 * dockerfile-utils (the Docker language server's validator), its instructions held to what the
 * README promises, Bun's frozen install tried on the real lockfile, and the container's own
 * command line and health check run here as processes.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast'
import { validate } from 'dockerfile-utils'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { SHIPPED_BUN_ENV } from '../bench/gateway-env.ts'
import { freePort, killGroup, runCommand, startCommand, userEnv } from '../support/commands.ts'
import { ROOT, tempDir } from '../support/processes.ts'

const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
const dockerfile = DockerfileParser.parse(text)
const all = dockerfile.getInstructions()
const lastFrom = dockerfile.getFROMs().at(-1)!
/** The final stage: what the image runs. */
const final = all.filter((i) => i.getRange().start.line >= lastFrom.getRange().start.line)
const work = tempDir('burrow-docker-')
afterAll(() => rmSync(work, { recursive: true, force: true }))

function only(keyword: string, from: Instruction[] = final): Instruction {
  const found = from.filter((i) => i.getKeyword() === keyword)
  expect(found.length, `one ${keyword} in the final stage`).toBe(1)
  return found[0]!
}

/** An exec-form (JSON array) argument list; shell form would put /bin/sh in front of the gateway. */
function execForm(i: Instruction): string[] {
  const content = (i.getArgumentsContent() ?? '').replace(/^CMD\s+/, '')
  expect(content.startsWith('['), `${i.getKeyword()} in exec form`).toBe(true)
  return JSON.parse(content) as string[]
}

function envOf(name: string): string | undefined {
  for (const env of final.filter((i) => i.getKeyword() === 'ENV')) {
    for (const p of (env as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
      if (p.getName() === name) return p.getValue() ?? undefined
    }
  }
  return undefined
}

const lockedBun = (JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> }).packages['node_modules/bun']!.version

describe('Dockerfile', () => {
  test('lints clean (dockerfile-utils)', () => {
    expect(validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([])
  })

  test('every stage is the official Bun image at the Bun version the tests run on', () => {
    const arg = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === 'BUN_VERSION')
    expect(arg?.getProperty()?.getValue()).toBe(lockedBun)
    const froms = dockerfile.getFROMs()
    expect(froms.length).toBeGreaterThanOrEqual(2)
    for (const from of froms) {
      expect(from.getImageName()).toBe('oven/bun')
      expect(from.getImageTag()).toMatch(/^\$\{BUN_VERSION\}(-slim)?$/)
    }
  })

  test('installs with --frozen-lockfile, production dependencies only', () => {
    const installs = all.filter((i) => i.getKeyword() === 'RUN' && /\bbun install\b/.test(i.getArgumentsContent() ?? ''))
    expect(installs.length).toBe(1)
    expect(installs[0]!.getArgumentsContent()).toContain('--frozen-lockfile')
    expect(installs[0]!.getArgumentsContent()).toContain('--production')
  })

  test('runs as a non-root user, with the data dir as a volume', () => {
    const user = only('USER').getArgumentsContent()!
    expect(['root', '0', '0:0']).not.toContain(user)
    const dataDir = envOf('BURROW_DATA_DIR')
    expect(dataDir).toBe('/data')
    expect(execForm(only('VOLUME'))).toEqual([dataDir!])
    // USER comes before what runs: the gateway does not start as root.
    expect(only('USER').getRange().start.line).toBeLessThan(only('ENTRYPOINT').getRange().start.line)
  })

  test('exposes the HTTP port and the optional SSH port, stops with SIGTERM, checks /healthz', () => {
    const ports = (only('EXPOSE').getArgumentsContent() ?? '').split(/\s+/)
    expect(ports).toContain(envOf('PORT')!)
    expect(ports).toContain('2222')
    expect(only('STOPSIGNAL').getArgumentsContent()).toBe('SIGTERM')
    expect(execForm(only('HEALTHCHECK')).join(' ')).toContain('/healthz')
  })

  test("the gateway is PID 1's direct child: an init, then bun on the CLI, no npm, no shell", () => {
    const argv = [...execForm(only('ENTRYPOINT')), ...execForm(only('CMD'))]
    expect(argv.slice(0, 2)).toEqual(['/usr/bin/tini', '--'])
    const [runtime, script, command] = argv.slice(2)
    expect(runtime).toBe('bun')
    expect(existsSync(join(ROOT, script!))).toBe(true)
    expect(command).toBe('serve')
    expect(argv.filter((a) => /^(npm|npx|sh|\/bin\/sh|bash)$/.test(a) || a === 'run')).toEqual([])
    // tini comes from the stage's Debian packages.
    expect(final.some((i) => i.getKeyword() === 'RUN' && /apt-get install[^&]*\btini\b/.test(i.getArgumentsContent() ?? ''))).toBe(true)
  })

  test("sets Bun's allocator variables to the values the bench measures (docs/DEPLOY.md)", () => {
    for (const [name, value] of Object.entries(SHIPPED_BUN_ENV)) expect(envOf(name), name).toBe(value)
  })

  test('COPY sources exist in the build context and .dockerignore lets them through', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    const copies = all.filter((i): i is Copy => i instanceof Copy)
    for (const copy of copies.filter((c) => !c.getFlags().some((f) => f.getName() === 'from'))) {
      const args = (copy.getArgumentsContent() ?? '').split(/\s+/)
      for (const src of args.slice(0, -1)) {
        expect(existsSync(join(ROOT, src)), `${src} exists`).toBe(true)
        expect(ignore, `.dockerignore re-includes ${src}`).toContain(`!${src.replace(/\/?$/, '')}`)
      }
    }
  })
})

describe('what the image runs, run here', () => {
  test("Bun accepts package-lock.json with --frozen-lockfile (the image's install)", async () => {
    const dir = join(work, 'lock')
    mkdirSync(dir)
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
    copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'))
    const r = await runCommand(process.execPath, ['install', '--frozen-lockfile', '--production', '--ignore-scripts', '--dry-run'], { cwd: dir, env: userEnv(), timeoutMs: 60_000 })
    expect(r.stdout + r.stderr).not.toContain('lockfile had changes')
    expect(r.code, r.stderr).toBe(0)
  })

  test('the entrypoint serves, the health check passes, SIGTERM ends it with 0, then the check fails', async () => {
    const argv = [...execForm(only('ENTRYPOINT')), ...execForm(only('CMD'))].slice(2)
    const health = execForm(only('HEALTHCHECK'))
    const port = await freePort()
    const env = userEnv({ NODE_ENV: envOf('NODE_ENV')!, HOST: '127.0.0.1', PORT: String(port), BURROW_DATA_DIR: join(work, 'data'), LOG_LEVEL: 'warn' })
    // `bun` is this test's own runtime: the Bun version the image pins.
    const bun = (args: string[]) => [process.execPath, ...args] as const
    const [cmd, ...args] = bun(argv.slice(1))
    const gw = startCommand(cmd, args, { cwd: ROOT, env })
    try {
      await gw.waitFor(/Burrow gateway on http:\/\/127\.0\.0\.1:\d+ \(bun\)/, 30_000)
      const [hcmd, ...hargs] = bun(health.slice(1))
      expect((await runCommand(hcmd, hargs, { cwd: ROOT, env, timeoutMs: 10_000 })).code).toBe(0)
      process.kill(gw.pid, 'SIGTERM')
      expect(await gw.exited).toBe(0)
      expect((await runCommand(hcmd, hargs, { cwd: ROOT, env, timeoutMs: 10_000 })).code).toBe(1)
    } finally {
      killGroup(gw.pid)
    }
  })
})
