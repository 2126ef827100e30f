#!/usr/bin/env node
// The `burrow` bin. Bun and Deno run the TypeScript source directly; Node loads it through tsx.
const g = globalThis
if (g.Bun === undefined && g.Deno === undefined) {
  const { register } = await import('tsx/esm/api')
  register()
}
await import('../src/cli.ts')
