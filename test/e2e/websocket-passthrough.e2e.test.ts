/**
 * WebSocket passthrough end to end on a gateway on Bun, Deno and Node, against the edge origin:
 * `/ws` greets (`hello <protocol>`) right after its handshake, picks the second offered
 * subprotocol and puts `Set-Cookie: ws=1; Path=/` and `X-Edge-Ws: yes` on its 101; `/ws-refused`
 * answers 401 with WWW-Authenticate and a body. The consumer is a raw client
 * (test/support/raw-websocket.ts) that sees the 101 as sent and every frame in order.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseEcho } from '../support/consumer.ts'
import { RUNTIMES, startContractEnv, startEdgeOrigin, type ContractEnv, type EdgeOrigin } from '../support/contract-env.ts'
import { stopAll, TEST_ADMIN_TOKEN } from '../support/processes.ts'
import type { HeaderList } from '../support/raw-http.ts'
import { probeWebSocket, type WebSocketProbe } from '../support/raw-websocket.ts'

let edge: Promise<EdgeOrigin>
beforeAll(() => {
  edge = startEdgeOrigin()
})
afterAll(stopAll)

const ROUNDS = 20
// Per connection: long enough for a loaded 2-core machine, short enough that 20 lost greetings fit the test's time.
const MESSAGE_WAIT_MS = 5_000

function fields(probe: WebSocketProbe, name: string): string[] {
  return (probe.response.head?.headers ?? []).filter(([n]) => n.toLowerCase() === name).map(([, v]) => v)
}

for (const runtime of RUNTIMES) {
  describe(`WebSocket passthrough, gateway on ${runtime}`, () => {
    let env: ContractEnv
    let edgePort: number
    beforeAll(async () => {
      const e = await edge
      edgePort = e.port
      env = await startContractEnv(runtime, e, [{ user: 'alice' }], { BURROW_BASE_DOMAIN: 'localhost' })
    })
    const auth = (): [string, string] => ['Authorization', `Bearer ${env.tokens.alice}`]
    /** Open `path` on alice's tunnel (path or Host routing), say `send`, and collect `expect` messages. */
    const open = (path: string, opts: { viaHost?: boolean; anonymous?: boolean; protocols?: string[]; headers?: HeaderList; send?: string; expect?: number } = {}) =>
      probeWebSocket({
        port: env.port,
        target: opts.viaHost === true ? path : `/t/alice${path}`,
        host: opts.viaHost === true ? `alice.localhost:${env.port}` : env.host,
        headers: [...(opts.anonymous === true ? [] : [auth()]), ...(opts.headers ?? [])],
        protocols: opts.protocols ?? ['chat.v1', 'chat.v2'],
        send: opts.send,
        expect: opts.expect ?? 2,
        timeoutMs: MESSAGE_WAIT_MS,
      })

    test(`${ROUNDS} connections in a row: each receives the service's greeting first, then its echo`, async () => {
      const outcomes: string[][] = []
      for (let i = 0; i < ROUNDS; i++) {
        const ws = await open('/ws', { send: `ping ${i}` })
        expect(ws.response.head?.status).toBe(101)
        outcomes.push([...ws.messages])
      }
      const lost = outcomes.filter((m) => m[0] !== 'hello chat.v2').length
      expect({ lost, outcomes }).toEqual({ lost: 0, outcomes: outcomes.map((_, i) => ['hello chat.v2', `ping ${i}`]) })
    }, ROUNDS * MESSAGE_WAIT_MS + 30_000)

    test("the consumer is told the service's subprotocol: chat.v2 of 'chat.v1, chat.v2', of 'chat.v1,chat.v2' and of two fields", async () => {
      const offers: [string, HeaderList][] = [
        ['chat.v1, chat.v2', [['Sec-WebSocket-Protocol', 'chat.v1, chat.v2']]],
        ['chat.v1,chat.v2', [['Sec-WebSocket-Protocol', 'chat.v1,chat.v2']]],
        // RFC 6455 §11.3.4: the field may appear several times in a request, as one list.
        ['two fields', [['Sec-WebSocket-Protocol', 'chat.v1'], ['Sec-WebSocket-Protocol', 'chat.v2']]],
      ]
      for (const [offer, headers] of offers) {
        const ws = await open('/ws', { protocols: [], headers, expect: 1 })
        expect({ offer, status: ws.response.head?.status, protocol: fields(ws, 'sec-websocket-protocol'), greeting: ws.messages[0] }).toEqual({
          offer,
          status: 101,
          protocol: ['chat.v2'],
          greeting: 'hello chat.v2',
        })
      }
    })

    test("the 101 carries the service's Set-Cookie (Path under /t/alice/ under path routing) and its custom field", async () => {
      const viaPath = await open('/ws', { expect: 1 })
      expect(viaPath.response.head?.status).toBe(101)
      expect(fields(viaPath, 'set-cookie')).toEqual(['ws=1; Path=/t/alice/'])
      expect(fields(viaPath, 'x-edge-ws')).toEqual(['yes'])
      const viaHost = await open('/ws', { viaHost: true, expect: 1 })
      expect(viaHost.response.head?.status).toBe(101)
      expect(fields(viaHost, 'set-cookie')).toEqual(['ws=1; Path=/'])
      expect(fields(viaHost, 'x-edge-ws')).toEqual(['yes'])
      expect(viaHost.messages).toEqual(['hello chat.v2'])
    })

    test('an upgrade reaches the service as a request would: no Burrow credentials, the app\'s own Authorization and cookies, its own Host', async () => {
      const handshakes: [string, HeaderList, { authorization: string[]; cookie: string[] }][] = [
        ['Bearer', [auth(), ['Cookie', 'x=1']], { authorization: [], cookie: ['x=1'] }],
        ['Burrow-Token', [['Burrow-Token', env.tokens.alice!], ['Authorization', 'Basic dTpw']], { authorization: ['Basic dTpw'], cookie: [] }],
        ['login cookie', [['Cookie', `__burrow_token=${env.tokens.alice}; x=1`]], { authorization: [], cookie: ['x=1'] }],
      ]
      for (const [label, headers, expected] of handshakes) {
        for (const viaHost of [false, true]) {
          const ws = await open('/ws-echo-head', { anonymous: true, headers, viaHost, expect: 1 })
          expect({ label, viaHost, status: ws.response.head?.status }).toEqual({ label, viaHost, status: 101 })
          const seen = parseEcho(ws.messages[0] ?? '', label)
          expect({ label, authorization: seen.all('authorization'), cookie: seen.all('cookie') }).toEqual({ label, ...expected })
          expect(seen.all('burrow-token')).toEqual([])
          expect(seen.target).toBe('/ws-echo-head')
          expect(seen.all('host')).toEqual([`127.0.0.1:${edgePort}`])
          expect(seen.all('x-forwarded-host')).toEqual([viaHost ? `alice.localhost:${env.port}` : env.host])
        }
      }
    })

    test('offering a subprotocol the service does not pick: the consumer hears what the service said (a 101 without one, then its greeting), and the channel comes back', async () => {
      // RFC 6455 §4.1: a client fails the connection on a subprotocol it did not offer, not on none.
      const direct = await probeWebSocket({ port: edgePort, target: '/ws', host: `127.0.0.1:${edgePort}`, headers: [], protocols: ['chat.v1'], expect: 1, timeoutMs: MESSAGE_WAIT_MS })
      expect([direct.response.head?.status, fields(direct, 'sec-websocket-protocol'), direct.messages]).toEqual([101, [], ['hello ']])
      const ws = await open('/ws', { protocols: ['chat.v1'], expect: 1 })
      const busy = async () => {
        const stats = (await (await fetch(`${env.gw.url}/admin/stats`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { totals: { busy: number } }
        return stats.totals.busy
      }
      // The consumer is gone (the probe closed its socket): its channel must be free again soon.
      let left = await busy()
      for (let i = 0; i < 50 && left > 0; i++) {
        await new Promise((r) => setTimeout(r, 100))
        left = await busy()
      }
      expect({ status: ws.response.head?.status ?? ws.response.error, protocol: fields(ws, 'sec-websocket-protocol'), messages: ws.messages, busyAfter: left }).toEqual({
        status: 101,
        protocol: [],
        messages: ['hello '],
        busyAfter: 0,
      })
    })

    test('a refused upgrade arrives with its status, WWW-Authenticate and body', async () => {
      for (const viaHost of [false, true]) {
        const ws = await open('/ws-refused', { viaHost, expect: 0 })
        expect({
          viaHost,
          status: ws.response.head?.status,
          challenge: fields(ws, 'www-authenticate'),
          body: ws.response.body.toString('utf8'),
        }).toEqual({ viaHost, status: 401, challenge: ['Bearer realm="edge"'], body: 'edge says: credentials required\n' })
        expect(ws.response.complete).toBe(true)
      }
    })
  })
}
