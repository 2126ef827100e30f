/**
 * The README's quick start and "Use it" commands, run verbatim in a fresh clone, one after the
 * other in one bash as a newcomer would type them: a PATH with only Node and npm (no Bun, tsx or
 * burrow), the gateway and the agent as real processes, a local service on 127.0.0.1. Only what
 * the README names as placeholders is replaced: the gateway's public URL, the local service's
 * address and the fingerprint. The gateway's PORT and HOST are set in the environment, as the
 * README's configuration table allows, so a busy 8080 on a shared machine cannot fail the run.
 *
 * The clone is of HEAD, with uncommitted changes to tracked files applied on top, so a README
 * edit is tested before it is committed.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, runCommand, userEnv } from '../support/commands.ts'
import { ROOT, tempDir } from '../support/processes.ts'
import { openShell, type ShellSession } from '../support/shell-session.ts'
import { sectionCommands } from './readme-blocks.ts'

/** How each command is run: to completion (the default), in the background until ready, or not here. */
interface Rule {
  readonly match: RegExp
  readonly background?: { ready: RegExp }
  /** Why the command is not run by this test. */
  readonly skip?: string
  /** What its output must show, beyond exit code 0. */
  readonly prints?: RegExp
  readonly timeoutMs?: number
}

const RULES: Rule[] = [
  { match: /^npm install\b/, timeoutMs: 240_000 },
  { match: /^npm start\b/, background: { ready: /Burrow gateway on http:\/\/127\.0\.0\.1:\d+ \(bun\)\n\s*SSH host key: (SHA256:\S+)\n/ } },
  { match: /^npm test\b/, skip: 'it is the suite this test belongs to; .ci/run runs it as its own step' },
  { match: /burrow connect\b/, background: { ready: /connected \(1\/1, up to 3 when busy\)/ } },
  { match: /^curl\b/, prints: /"models":\[\]/ },
]

const work = tempDir('burrow-readme-')
const clone = join(work, 'burrow')
let shell: ShellSession | undefined
let origin: ReturnType<typeof Bun.serve> | undefined

beforeAll(async () => {
  const git = (args: string[], cwd: string, input?: string) => runCommand('git', args, { cwd, env: userEnv(), timeoutMs: 60_000, input })
  expect((await git(['clone', '--quiet', ROOT, clone], work)).code).toBe(0)
  const diff = await git(['diff', 'HEAD', '--binary'], ROOT)
  if (diff.stdout !== '') {
    writeFileSync(join(work, 'uncommitted.diff'), diff.stdout)
    const applied = await git(['apply', join(work, 'uncommitted.diff')], clone)
    expect(applied.code, applied.stderr).toBe(0)
  }
  // The private service: an Ollama stand-in on a free loopback port.
  origin = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (req) => (new URL(req.url).pathname === '/api/tags' ? Response.json({ models: [] }) : new Response('not found', { status: 404 })),
  })
})

afterAll(async () => {
  await shell?.close()
  origin?.stop(true)
  rmSync(work, { recursive: true, force: true })
})

test('the quick start and "Use it" commands work verbatim in a fresh clone', async () => {
  const readme = readFileSync(join(clone, 'README.md'), 'utf8')
  const commands = [...sectionCommands(readme, 'Quick start'), ...sectionCommands(readme, 'Use it')]
  const port = await freePort()
  shell = openShell(
    clone,
    // npm may take packages from the cache CI's `npm ci` filled; the commands themselves are as written.
    userEnv({ PORT: String(port), HOST: '127.0.0.1', npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }),
    work,
  )
  const gatewayUrl = `http://127.0.0.1:${port}`
  let fingerprint: string | undefined
  const placeholders: [RegExp, () => string][] = [
    [/https:\/\/gw\.example\.com/g, () => gatewayUrl],
    [/http:\/\/127\.0\.0\.1:11434/g, () => `http://127.0.0.1:${origin!.port}`],
    [/SHA256:tn7IOFE\/\.\.\./g, () => fingerprint ?? 'SHA256:(no gateway yet)'],
  ]
  const used = new Set<RegExp>()
  const ran: string[] = []
  for (const written of commands) {
    let command = written
    for (const [re, value] of placeholders) {
      if (command.match(re) === null) continue
      used.add(re)
      command = command.replace(re, value())
    }
    const rule = RULES.find((r) => r.match.test(written))
    if (rule?.skip !== undefined) continue
    ran.push(written)
    if (rule?.background !== undefined) {
      const m = await shell.start(command, rule.background.ready, 60_000)
      fingerprint ??= m[0].match(/SSH host key: (SHA256:\S+)/)?.[1]
      continue
    }
    const r = await shell.run(command, rule?.timeoutMs ?? 60_000)
    expect(r.code, `${written}\n${r.output.slice(-3000)}`).toBe(0)
    if (rule?.prints !== undefined) expect(r.output, written).toMatch(rule.prints)
  }
  // Everything the README leads a newcomer through ran, and every placeholder was met.
  expect(ran.map((c) => c.split(/\s+/).slice(0, 2).join(' '))).toEqual(['npm install', 'npm start', 'TOKEN=$(npx burrow', 'npx burrow', 'curl -H'])
  expect(used.size).toBe(placeholders.length)
}, 400_000)
