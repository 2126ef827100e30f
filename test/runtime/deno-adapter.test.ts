import { afterEach, describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { createDenoAdapter } from '../../src/runtime/deno.ts'
import type { TunnelWSEvents } from '../../src/runtime/types.ts'

// The adapter alone, against a fake `Deno` global (as Hono's adapter tests do); the e2e suites
// run it on Deno for real.
const options = { rootApp: () => new Hono(), maxFrameBytes: 1234 }

class FakeSocket {
  binaryType = 'blob'
  readyState = 1
  protocol = ''
  url = ''
  onopen: ((e: Event) => void) | null = null
  onmessage: ((e: MessageEvent) => void) | null = null
  onclose: ((e: CloseEvent) => void) | null = null
  onerror: ((e: Event) => void) | null = null
  sent: unknown[] = []
  send(d: unknown) {
    this.sent.push(d)
  }
  close() {}
}

function fakeDeno() {
  const socket = new FakeSocket()
  const served: { options: Record<string, unknown>; handler: unknown }[] = []
  ;(globalThis as { Deno?: unknown }).Deno = {
    upgradeWebSocket: (_req: Request) => ({ response: new Response(null, { status: 200 }), socket }),
    serve(o: Record<string, unknown>, handler: unknown) {
      served.push({ options: o, handler })
      queueMicrotask(() => (o.onListen as (a: { port: number; hostname: string }) => void)({ port: 4321, hostname: '127.0.0.1' }))
      return { finished: Promise.resolve(), shutdown: async () => {}, addr: { port: 4321, hostname: '127.0.0.1' } }
    },
  }
  return { socket, served }
}

const context = (env: unknown = {}) => {
  const req = new Request('http://gw.test/t/alice/ws')
  return { env, req: { raw: req, url: req.url } } as never
}

describe('Deno adapter', () => {
  afterEach(() => delete (globalThis as { Deno?: unknown }).Deno)

  test('builds without a Deno global (it is read at upgrade and serve time only)', () => {
    expect(createDenoAdapter(options).name).toBe('deno')
  })

  test("upgrade: binary frames as ArrayBuffer (a Blob would reorder reads), the service's subprotocol and fields on the 101, events wired", async () => {
    const { socket } = fakeDeno()
    const got: unknown[] = []
    const events: TunnelWSEvents = {
      onOpen: (_e, ws) => void got.push(['open', ws.protocol]),
      onMessage: (e) => void got.push(['message', e.data]),
      onClose: (e) => void got.push(['close', (e as CloseEvent).code]),
    }
    const res = await createDenoAdapter(options).upgradeWebSocket(context(), events, { protocol: 'chat.v2', headers: ['set-cookie', 'a=1', 'x-edge', 'yes'] })
    expect(socket.binaryType).toBe('arraybuffer')
    // Deno's own `protocol` option refuses `a,b`: the header is set on the 101 instead.
    expect(res.headers.get('sec-websocket-protocol')).toBe('chat.v2')
    expect(res.headers.getSetCookie()).toEqual(['a=1'])
    expect(res.headers.get('x-edge')).toBe('yes')
    socket.onopen!(new Event('open'))
    socket.onmessage!(new MessageEvent('message', { data: 'hi' }))
    socket.onclose!({ code: 1000 } as CloseEvent)
    expect(got).toEqual([['open', 'chat.v2'], ['message', 'hi'], ['close', 1000]])
  })

  test("the client address is Deno.serve's remoteAddr, and unknown (not an error) without it", () => {
    const adapter = createDenoAdapter(options)
    expect(adapter.clientAddress(context({ remoteAddr: { hostname: '127.0.0.7', port: 999 } }))).toEqual({ address: '127.0.0.7', port: 999 })
    expect(adapter.clientAddress(context(undefined))).toEqual({ address: undefined, port: undefined })
  })

  test('serve(): onError answers a failed body stream quietly (Deno would print each one)', async () => {
    const { served } = fakeDeno()
    const handle = await createDenoAdapter(options).serve(new Hono(), { port: 0, hostname: '127.0.0.1' })
    expect(handle.port).toBe(4321)
    const onError = served[0]!.options.onError as (e: unknown) => Response
    expect(onError(new Error('cut')).status).toBe(500)
  })
})
