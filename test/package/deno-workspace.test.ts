/**
 * deno.json `exports` as a Deno user consumes them: the repository as a member of the user's
 * workspace, imported by its name, and a gateway created, served and stopped from there.
 */
import { afterAll, expect, test } from 'bun:test'
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCommand, userEnv } from '../support/commands.ts'
import { ROOT, tempDir } from '../support/processes.ts'

const app = tempDir('burrow-deno-app-')
afterAll(() => rmSync(app, { recursive: true, force: true }))

test("a Deno workspace imports Burrow by its deno.json name and serves /healthz", async () => {
  const { name } = JSON.parse(readFileSync(join(ROOT, 'deno.json'), 'utf8')) as { name: string }
  // A workspace member must sit inside the workspace: a link stands for a clone or a submodule.
  symlinkSync(ROOT, join(app, 'burrow'))
  // Workspace-wide settings live in the root config (Deno warns about them in a member's).
  writeFileSync(join(app, 'deno.json'), JSON.stringify({ workspace: ['./burrow'], nodeModulesDir: 'manual', unstable: ['no-legacy-abort'] }))
  writeFileSync(
    join(app, 'main.ts'),
    [
      `import { createGateway } from '${name}'`,
      "const gw = createGateway({ port: 0, host: '127.0.0.1', dataDir: Deno.makeTempDirSync(), logLevel: 'warn' })",
      'const server = await gw.listen()',
      'const res = await fetch(`http://127.0.0.1:${server.port}/healthz`)',
      "console.log('healthz', res.status, await res.text())",
      'await gw.stop()',
      '',
    ].join('\n'),
  )
  const r = await runCommand(join(ROOT, 'node_modules/deno/deno'), ['run', '-A', 'main.ts'], { cwd: app, env: userEnv(), timeoutMs: 60_000 })
  expect(r.stdout, r.stderr).toContain('healthz 200 {"status":"ok"}')
  expect(r.code).toBe(0)
})
