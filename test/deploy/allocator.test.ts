/**
 * Bun's allocator settings (docs/DEPLOY.md, "Bun's allocator"): MIMALLOC_PURGE_DELAY and
 * MIMALLOC_PURGE_HOLES are the same wherever Burrow starts Bun itself (the Dockerfile's ENV,
 * `npm start`) and in the bench that measures them (test/bench/gateway-env.ts), an operator's own
 * values win over `npm start`'s, and the Bun the tests run on really reads them: were a Bun
 * upgrade to drop mimalloc or rename these options, the setting would do nothing and this file
 * says so.
 */
import { describe, expect, test } from 'bun:test'
import { DockerfileParser } from 'dockerfile-ast'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BUN_DEFAULT_ALLOCATOR_ENV, SHIPPED_BUN_ENV } from '../bench/gateway-env.ts'
import { runCommand, userEnv } from '../support/commands.ts'
import { ROOT } from '../support/processes.ts'

const NAMES = ['MIMALLOC_PURGE_DELAY', 'MIMALLOC_PURGE_HOLES'] as const
/** mimalloc's option name for each variable, as MIMALLOC_VERBOSE=1 lists it. */
const option = (name: string) => name.slice('MIMALLOC_'.length).toLowerCase()

/** The final stage's ENV value of `name` in the Dockerfile. */
function dockerEnv(name: string): string | undefined {
  const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  const lastFrom = dockerfile.getFROMs().at(-1)!.getRange().start.line
  let value: string | undefined
  for (const i of dockerfile.getInstructions()) {
    if (i.getKeyword() !== 'ENV' || i.getRange().start.line < lastFrom) continue
    for (const p of (i as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
      if (p.getName() === name) value = p.getValue() ?? undefined
    }
  }
  return value
}

/** The `start` script with the gateway command replaced by a Bun one-liner that prints the variables, run by sh as npm runs it. */
async function startScriptSees(env: Record<string, string>): Promise<Record<string, string>> {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!
  expect(start).toEndWith('bun src/cli.ts serve')
  const print = `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(NAMES)}.map((n) => [n, process.env[n]]))))`
  const probe = start.replace(/bun src\/cli\.ts serve$/, `"${process.execPath}" -e '${print}'`)
  const r = await runCommand('/bin/sh', ['-c', probe], { cwd: ROOT, env: userEnv(env), timeoutMs: 20_000 })
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, string>
}

/** What mimalloc inside this Bun reports for each variable's option (MIMALLOC_VERBOSE=1 lists its options on stderr). */
async function optionsSeenByBun(env: Record<string, string>): Promise<Record<string, string | undefined>> {
  const r = await runCommand(process.execPath, ['-e', '1'], { cwd: ROOT, env: userEnv({ MIMALLOC_VERBOSE: '1', ...env }), timeoutMs: 20_000 })
  expect(r.code, r.stderr).toBe(0)
  return Object.fromEntries(NAMES.map((n) => [n, new RegExp(`option '${option(n)}': (-?\\d+)`).exec(r.stderr)?.[1]]))
}

describe("Bun's allocator setting", () => {
  test('the Dockerfile sets the values the bench measures', () => {
    expect(Object.keys(SHIPPED_BUN_ENV).sort()).toEqual([...NAMES])
    for (const n of NAMES) expect(dockerEnv(n), n).toBe(SHIPPED_BUN_ENV[n])
  })

  test('`npm start` sets them, and keeps values the operator set', async () => {
    expect(await startScriptSees({})).toEqual({ ...SHIPPED_BUN_ENV })
    expect(await startScriptSees({ ...BUN_DEFAULT_ALLOCATOR_ENV })).toEqual({ ...BUN_DEFAULT_ALLOCATOR_ENV })
  })

  test("this Bun's mimalloc reads them, and the bench's 'mimalloc defaults' row is Bun's own settings", async () => {
    expect(await optionsSeenByBun({ ...SHIPPED_BUN_ENV })).toEqual({ MIMALLOC_PURGE_DELAY: '10000', MIMALLOC_PURGE_HOLES: '0' })
    expect(await optionsSeenByBun({})).toEqual({ ...BUN_DEFAULT_ALLOCATOR_ENV })
  })
})
