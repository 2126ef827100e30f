/**
 * Bun's allocator settings (docs/DEPLOY.md, "Bun's allocator"): MIMALLOC_PURGE_DELAY and
 * MIMALLOC_PURGE_HOLES are the same wherever Burrow starts Bun itself (`npm start` here; the
 * Dockerfile's ENV in dockerfile.test.ts) and in the bench that measures them (test/bench/gateway-env.ts), an operator's own
 * values win over `npm start`'s, and the Bun the tests run on really reads them: were a Bun
 * upgrade to drop mimalloc or rename these options, the setting would do nothing and this file
 * says so.
 */
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BUN_DEFAULT_ALLOCATOR_ENV, SHIPPED_BUN_ENV } from '../bench/gateway-env.ts'
import { runCommand, userEnv } from '../support/commands.ts'
import { ROOT } from '../support/processes.ts'

const NAMES = ['MIMALLOC_PURGE_DELAY', 'MIMALLOC_PURGE_HOLES'] as const
/** mimalloc's option name for each variable, as MIMALLOC_VERBOSE=1 lists it. */
const option = (name: string) => name.slice('MIMALLOC_'.length).toLowerCase()

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
  test('the bench measures exactly these variables (the Dockerfile sets them: dockerfile.test.ts)', () => {
    expect(Object.keys(SHIPPED_BUN_ENV).sort()).toEqual([...NAMES])
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
