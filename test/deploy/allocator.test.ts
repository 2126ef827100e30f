/**
 * Bun's allocator setting (docs/DEPLOY.md, "Bun's allocator"): MIMALLOC_PURGE_DELAY=-1 is the
 * same wherever Burrow starts Bun itself (the Dockerfile's ENV, `npm start`) and in the bench
 * that measures it (test/bench/gateway-env.ts), an operator's own value wins over `npm start`'s,
 * and the Bun the tests run on really reads the variable: were a Bun upgrade to drop mimalloc or
 * rename its options, the setting would do nothing and this file says so.
 */
import { describe, expect, test } from 'bun:test'
import { DockerfileParser } from 'dockerfile-ast'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BUN_DEFAULT_ALLOCATOR_ENV, SHIPPED_BUN_ENV } from '../bench/gateway-env.ts'
import { runCommand, userEnv } from '../support/commands.ts'
import { ROOT } from '../support/processes.ts'

const shipped = SHIPPED_BUN_ENV.MIMALLOC_PURGE_DELAY!
const bunDefault = BUN_DEFAULT_ALLOCATOR_ENV.MIMALLOC_PURGE_DELAY!

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

/** The `start` script with the gateway command replaced by a Bun one-liner that prints the variable, run by sh as npm runs it. */
async function startScriptSees(env: Record<string, string>): Promise<string> {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!
  expect(start).toEndWith('bun src/cli.ts serve')
  const probe = start.replace(/bun src\/cli\.ts serve$/, `"${process.execPath}" -e "console.log(process.env.MIMALLOC_PURGE_DELAY)"`)
  const r = await runCommand('/bin/sh', ['-c', probe], { cwd: ROOT, env: userEnv(env), timeoutMs: 20_000 })
  expect(r.code, r.stderr).toBe(0)
  return r.stdout.trim()
}

/** What mimalloc inside this Bun reports for purge_delay (MIMALLOC_VERBOSE=1 lists its options on stderr). */
async function purgeDelaySeenByBun(env: Record<string, string>): Promise<string | undefined> {
  const r = await runCommand(process.execPath, ['-e', '1'], { cwd: ROOT, env: userEnv({ MIMALLOC_VERBOSE: '1', ...env }), timeoutMs: 20_000 })
  expect(r.code, r.stderr).toBe(0)
  return /option 'purge_delay': (-?\d+)/.exec(r.stderr)?.[1]
}

describe("Bun's allocator setting", () => {
  test('the Dockerfile sets the value the bench measures', () => {
    expect(shipped).toBe('-1')
    expect(dockerEnv('MIMALLOC_PURGE_DELAY')).toBe(shipped)
  })

  test('`npm start` sets it, and keeps a value the operator set', async () => {
    expect(await startScriptSees({})).toBe(shipped)
    expect(await startScriptSees({ MIMALLOC_PURGE_DELAY: bunDefault })).toBe(bunDefault)
  })

  test("this Bun's mimalloc reads it, and the bench's 'purging' row is Bun's own default", async () => {
    expect(await purgeDelaySeenByBun({ MIMALLOC_PURGE_DELAY: shipped })).toBe('-1')
    expect(await purgeDelaySeenByBun({})).toBe(bunDefault)
  })
})
