/**
 * A Bun app of your own with Burrow mounted under /tunnels, next to its own routes.
 *
 *   BURROW_DATA_DIR=./.burrow PORT=3000 bun examples/bun-host.ts
 *
 * Agents:    burrow connect --server http://HOST:3000/tunnels --token T --to http://127.0.0.1:11434
 * Consumers: http://HOST:3000/tunnels/t/<user>/…   (Burrow-Token or Authorization: Bearer)
 * Admin:     http://HOST:3000/tunnels/admin/stats  (bearer: the admin token in the data dir)
 */
import { Hono } from 'hono'
import { createGateway } from 'burrow'

const gw = createGateway({
  dataDir: process.env.BURROW_DATA_DIR ?? './.burrow',
  // Unset: generated in the data dir on first start (`burrow token USER` signs with it).
  secret: process.env.BURROW_SECRET || undefined,
})

const app = new Hono()
app.get('/', (c) => c.text('my app; tunnels under /tunnels\n'))
app.get('/api/time', (c) => c.json({ now: new Date().toISOString() }))
app.route('/tunnels', gw.app)

await gw.start() // the sweep of stale agent connections
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: process.env.HOST ?? '127.0.0.1',
  fetch: app.fetch,
  // Agents' /tunnel and consumers' WebSockets: the handler exists as soon as the gateway does.
  websocket: gw.websocket as never,
  // Token streams can be silent for minutes; the gateway has its own timeouts.
  idleTimeout: 0,
  // Uploads stream through the tunnel; Bun would refuse bodies over 128 MiB.
  maxRequestBodySize: Number.MAX_SAFE_INTEGER,
})
console.log(`listening on http://${server.hostname}:${server.port} (Burrow under /tunnels)`)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    await gw.stop() // in-flight requests finish (30 s grace), agents are told to go
    await server.stop()
    process.exit(0)
  })
}
