#!/usr/bin/env node
// The `burrow` bin. Bun and Deno run the TypeScript source directly. Node runs the build in dist/
// (`npm run build`; `npm install` in a clone and `npm pack` run it through `prepare`), so an
// installed package needs no TypeScript loader. A clone installed with --ignore-scripts has no
// dist/: there the sources run through tsx when the dev dependencies are present.
const g = globalThis
if (g.Bun !== undefined || g.Deno !== undefined) {
  await import('../src/cli.ts')
} else {
  const built = new URL('../dist/cli.js', import.meta.url)
  const { existsSync } = await import('node:fs')
  if (existsSync(built)) {
    await import(built.href)
  } else {
    let register
    try {
      ;({ register } = await import('tsx/esm/api'))
    } catch {
      console.error(`burrow: ${built.pathname} is missing; run \`npm run build\` in ${new URL('..', import.meta.url).pathname}`)
      process.exit(1)
    }
    register()
    await import('../src/cli.ts')
  }
}
