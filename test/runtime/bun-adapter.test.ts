import { describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import type { BunSocket, BunSocketData } from '../../src/runtime/bun-websocket.ts'
import { createBunAdapter } from '../../src/runtime/bun.ts'
import type { TunnelWSEvents } from '../../src/runtime/types.ts'

// The adapter is tested alone, against fakes of what Bun hands it (as Hono's adapter tests do);
// the e2e suites run it for real.
const options = { rootApp: () => new Hono(), maxFrameBytes: 1234 }

/** A context as Hono builds it under Bun.serve: `env` is the server. */
function context(env: unknown, headers: Record<string, string> = {}) {
  const req = new Request('http://gw.test/t/alice/ws', { headers })
  return { env, req: { raw: req, url: req.url } } as never
}

function socket(events: TunnelWSEvents): BunSocket & { sent: unknown[]; closed: unknown[] } {
  const sent: unknown[] = []
  const closed: unknown[] = []
  return {
    data: { events, url: new URL('http://gw.test/ws'), protocol: 'chat.v2' } as BunSocketData,
    readyState: 1,
    send: (d: unknown) => (sent.push(d), 1),
    close: (code?: number, reason?: string) => void closed.push([code, reason]),
    sent,
    closed,
  }
}

describe('Bun adapter', () => {
  test('its websocket handler exists as soon as the adapter does, with the frame limit', () => {
    const adapter = createBunAdapter(options)
    expect(adapter.name).toBe('bun')
    expect(adapter.glue.websocket).toMatchObject({ maxPayloadLength: 1234, perMessageDeflate: false, idleTimeout: 0 })
  })

  test("upgrade: the 101 confirms the given subprotocol (none: an empty value, which Bun leaves out) and carries the relayed fields", async () => {
    const calls: { data: BunSocketData; headers?: Headers }[] = []
    const server = { upgrade: (_req: Request, o: { data: BunSocketData; headers?: Headers }) => (calls.push(o), true) }
    const adapter = createBunAdapter(options)
    const events: TunnelWSEvents = {}
    await adapter.upgradeWebSocket(context(server), events, { protocol: 'chat.v2', headers: ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-edge', 'yes'] })
    await adapter.upgradeWebSocket(context(server), events)
    expect(calls[0]!.headers!.get('sec-websocket-protocol')).toBe('chat.v2')
    expect(calls[0]!.headers!.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(calls[0]!.headers!.get('x-edge')).toBe('yes')
    expect(calls[0]!.data.events).toBe(events)
    expect(calls[1]!.headers!.get('sec-websocket-protocol')).toBe('')
  })

  test('upgrade throws when the context has no Bun server, or Bun refuses', async () => {
    const adapter = createBunAdapter(options)
    await expect(adapter.upgradeWebSocket(context(undefined), {})).rejects.toThrow(/not served by Bun.serve/)
    await expect(adapter.upgradeWebSocket(context({ upgrade: () => false }), {})).rejects.toThrow(/refused/)
  })

  test("the websocket handler: binary frames go to onBinary uncopied, text to onMessage, close and drain reach their hooks, a handler's throw reaches onError", () => {
    const got: string[] = []
    const frame = new Uint8Array([1, 2, 3])
    let binary: Uint8Array | undefined
    const events: TunnelWSEvents = {
      onOpen: (_e, ws) => void got.push(`open ${ws.protocol}`),
      onBinary: (d) => void (binary = d),
      onMessage: (e) => {
        if (e.data === 'boom') throw new Error('handler failed')
        got.push(`text ${e.data}`)
      },
      onClose: (e) => void got.push(`close ${(e as CloseEvent).code} ${(e as CloseEvent).reason}`),
      onError: () => void got.push('error'),
      onDrain: () => void got.push('drain'),
    }
    const handler = createBunAdapter(options).glue.websocket as {
      open(ws: BunSocket): void
      message(ws: BunSocket, m: string | Uint8Array): void
      close(ws: BunSocket, code: number, reason: string): void
      drain(ws: BunSocket): void
    }
    const ws = socket(events)
    handler.open(ws)
    handler.message(ws, frame)
    handler.message(ws, 'hello')
    handler.message(ws, 'boom')
    handler.drain(ws)
    handler.close(ws, 1000, 'bye')
    expect(binary).toBe(frame)
    expect(got).toEqual(['open chat.v2', 'text hello', 'error', 'drain', 'close 1000 bye'])
  })

  test('the client address comes from the server, and is unknown (not an error) without one', () => {
    const adapter = createBunAdapter(options)
    expect(adapter.clientAddress(context({ upgrade: () => true, requestIP: () => ({ address: '127.0.0.9', port: 4242 }) }))).toEqual({ address: '127.0.0.9', port: 4242 })
    expect(adapter.clientAddress(context({}))).toEqual({ address: undefined, port: undefined })
  })

  test('serve() asks Bun.serve for no idle timeout, no body limit, and the tunnel WebSocket handler', async () => {
    let given: Record<string, unknown> | undefined
    let stopped: boolean | undefined
    const bun = { serve: (o: Record<string, unknown>) => ((given = o), { port: 5555, stop: async (force?: boolean) => void (stopped = force) }) }
    const adapter = createBunAdapter(options, bun)
    const handle = await adapter.serve(new Hono(), { port: 0, hostname: '127.0.0.1' })
    expect(given).toMatchObject({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, maxRequestBodySize: Number.MAX_SAFE_INTEGER })
    expect(given!.websocket).toBe(adapter.glue.websocket)
    expect(handle.port).toBe(5555)
    await handle.close(true)
    expect(stopped).toBe(true)
  })
})
