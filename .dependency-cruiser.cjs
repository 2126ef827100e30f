/**
 * The architecture as rules (docs/ARCHITECTURE.md draws it): what each part of src/ may import.
 * `npm run check:deps` (and CI) fails on any import that crosses these lines.
 */
const only = (from, allowed, comment) => ({
  name: allowed.length === 0 ? `${from}-imports-nothing-of-burrow` : `${from}-imports-only-${allowed.join('-')}`,
  comment,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: '^src/', pathNot: [`^src/${from}/`, ...allowed.map((a) => `^src/${a}(/|\\.ts$)`)] },
})

module.exports = {
  forbidden: [
    only('pool', [], 'The pool is pure: it imports nothing of Burrow (time and limits are arguments).'),
    only('wire', [], 'What both ends agree on at the wire: a leaf everyone may import.'),
    only('log', [], 'The logger is a leaf.'),
    only('rate-limit', [], 'Token buckets are pure functions of now.'),
    only('config', [], 'Configuration: valibot schemas, nothing of Burrow.'),
    only('auth', ['config', 'log', 'wire'], 'Tokens and SSH credentials.'),
    only('transport', ['pool', 'config', 'log', 'wire'], 'WebSocket duplex and SSH server: they declare the credential check they need; auth implements it.'),
    only('proxy', ['transport', 'pool', 'log', 'wire'], 'HTTP over a channel.'),
    only('agent', ['transport', 'config', 'log', 'wire'], 'The agent never imports the gateway.'),
    only('cluster', ['config', 'log', 'wire', 'pool'], 'Several instances through Redis (directory, admission script, internal fields, the socket to a holder); the gateway wires it.'),
    only('runtime', [], 'Runtime adapters hold every runtime quirk and import nothing of Burrow: what they need is passed in.'),
    only('cli', ['gateway/index', 'agent', 'auth', 'config', 'log', 'wire', 'index'], 'The CLI uses the gateway through its public surface.'),
    {
      name: 'gateway-is-given-its-runtime',
      comment: 'The gateway is handed a runtime adapter (types only); it never loads one itself.',
      severity: 'error',
      from: { path: '^src/gateway/' },
      to: { path: '^src/runtime/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'gateway-not-cli-or-public-api',
      severity: 'error',
      from: { path: '^src/gateway/' },
      to: { path: ['^src/cli', '^src/index\\.ts$'] },
    },
    {
      name: 'runtime-globals-only-in-runtime',
      comment: 'Bun and Deno globals are reached only in src/runtime (checked by grep in CI too).',
      severity: 'error',
      from: { pathNot: '^src/runtime/' },
      to: { path: ['^hono/bun', '^hono/deno'] },
    },
    {
      name: 'no-circular',
      comment: 'Modules form a tree; type-only cycles are allowed (they vanish at run time).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
}
