/**
 * The README's Configuration table is the schema's, row for row: every variable, its option name and
 * its default, so the docs cannot drift from the code (`burrow serve --help` prints the same rows).
 */
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_VARIABLES } from '../../src/config/index.ts'
import { ROOT } from '../support/processes.ts'

test("README's configuration table lists every variable with the schema's option name and default", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const rows = [...readme.matchAll(/^\| `([A-Z0-9_]+)` \| `([A-Za-z0-9]+)` \| ([^|]+) \|/gm)].map(([, env, option, value]) => ({ env, option, default: value!.trim() }))
  expect(rows).toEqual(CONFIG_VARIABLES.map((v) => ({ env: v.env, option: v.option, default: v.default })))
})
