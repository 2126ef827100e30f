/**
 * A Node app of your own with Burrow mounted under /tunnels, next to its own routes. Plain
 * JavaScript on plain Node: Burrow's build in dist/ needs no TypeScript loader.
 *
 *   BURROW_DATA_DIR=./.burrow PORT=3000 node examples/node-host.mjs
 *
 * Agents:    burrow connect --server http://HOST:3000/tunnels --token T --to http://127.0.0.1:11434
 * Consumers: http://HOST:3000/tunnels/t/<user>/…   (Burrow-Token or Authorization: Bearer)
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createGateway } from 'burrow'

const app = new Hono()
// rootApp: Node hands WebSocket upgrades to the server, which sends them through this app.
const gw = createGateway({
  dataDir: process.env.BURROW_DATA_DIR ?? './.burrow',
  secret: process.env.BURROW_SECRET || undefined,
  rootApp: app,
})
app.get('/', (c) => c.text('my app; tunnels under /tunnels\n'))
app.get('/api/time', (c) => c.json({ now: new Date().toISOString() }))
app.route('/tunnels', gw.app)

await gw.start()
const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? '127.0.0.1' },
  (info) => console.log(`listening on http://${info.address}:${info.port} (Burrow under /tunnels)`),
)
gw.injectWebSocket(server)
// Token streams can be silent for minutes and uploads long: the gateway has its own timeouts.
server.requestTimeout = 0

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await gw.stop()
    server.close(() => process.exit(0))
    server.closeIdleConnections()
  })
}
