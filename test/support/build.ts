/**
 * The build in dist/ for tests and the benchmark that run what Node users run (`node dist/cli.js`,
 * the package's `exports`): rebuilt with `npm run build` when any file under src/ is newer.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { runCommand, userEnv } from './commands.ts'
import { ROOT } from './processes.ts'

function newestMtimeMs(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

function builtMtimeMs(): number {
  try {
    return statSync(join(ROOT, 'dist/cli.js')).mtimeMs
  } catch {
    return 0
  }
}

/**
 * Make dist/ current: run `npm run build` (up to 120 s) when dist/cli.js is missing or older than
 * the newest file under src/. Returns whether it built. Throws with the compiler's output when the
 * build fails.
 */
export async function ensureBuilt(): Promise<boolean> {
  if (builtMtimeMs() >= newestMtimeMs(join(ROOT, 'src'))) return false
  const r = await runCommand('npm', ['run', 'build'], { cwd: ROOT, env: userEnv(), timeoutMs: 120_000 })
  if (r.code !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`)
  return true
}
