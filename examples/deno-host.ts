/**
 * A Deno app of your own with Burrow mounted under /tunnels, next to its own routes.
 *
 *   BURROW_DATA_DIR=./.burrow PORT=3000 deno run --allow-net --allow-read --allow-write --allow-env --allow-sys examples/deno-host.ts
 *
 * Agents:    burrow connect --server http://HOST:3000/tunnels --token T --to http://127.0.0.1:11434
 * Consumers: http://HOST:3000/tunnels/t/<user>/…   (Burrow-Token or Authorization: Bearer)
 * In your own project, make `burrow` resolve to this repository (a workspace member, as the README's
 * Embedding section shows) and `hono` to the same Hono Burrow uses.
 */
import { Hono } from 'hono'
import { createGateway } from 'burrow'

const gw = createGateway({
  dataDir: Deno.env.get('BURROW_DATA_DIR') ?? './.burrow',
  secret: Deno.env.get('BURROW_SECRET') || undefined,
})

const app = new Hono()
app.get('/', (c) => c.text('my app; tunnels under /tunnels\n'))
app.get('/api/time', (c) => c.json({ now: new Date().toISOString() }))
app.route('/tunnels', gw.app)

await gw.start()
// Deno.serve upgrades WebSockets inside the handler: nothing more to wire.
const server = Deno.serve(
  {
    port: Number(Deno.env.get('PORT') ?? 3000),
    hostname: Deno.env.get('HOST') ?? '127.0.0.1',
    onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port} (Burrow under /tunnels)`),
  },
  app.fetch,
)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  Deno.addSignalListener(signal, async () => {
    await gw.stop()
    await server.shutdown()
    Deno.exit(0)
  })
}
