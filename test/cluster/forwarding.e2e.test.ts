/**
 * Three gateway processes (A, B, C) on one private redis-server, an agent on A only: requests
 * through B and C reach the tunnel on A over the internal route, streaming as the local path does.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import WsClient from 'ws'
import { patternChunk } from '../fixtures/pattern.ts'
import { connectionsOf, eventually } from '../support/admin.ts'
import { startCluster, TEST_CLUSTER_SECRET, untilStatus } from '../support/cluster.ts'
import { startAgent, startOrigin, stopAll, TEST_ADMIN_TOKEN, type GatewayProc, type RuntimeName } from '../support/processes.ts'
import { startRedis, type RedisServer } from '../support/redis.ts'
import { tokenFor } from '../support/tokens.ts'

const MiB = 1024 * 1024
// The forwarding path with all three gateways on each runtime (`CLUSTER_RUNTIMES=bun` narrows it).
const RUNTIMES = (process.env.CLUSTER_RUNTIMES ?? 'bun,deno,node').split(',') as RuntimeName[]

function expectedHash(size: number): string {
  const h = createHash('sha256')
  for (let off = 0; off < size; off += 64 * 1024) h.update(patternChunk(off, Math.min(64 * 1024, size - off)))
  return h.digest('hex')
}

for (const runtime of RUNTIMES) {
  describe(`forwarding between instances (${runtime})`, () => {
    let redis: RedisServer
    let a: GatewayProc, b: GatewayProc, c: GatewayProc
    let alice: string
    const auth = () => ({ authorization: `Bearer ${alice}` })

    beforeAll(async () => {
      redis = await startRedis()
      const origin = await startOrigin()
      ;[a, b, c] = (await startCluster(redis, ['A', 'B', 'C'], { runtime })) as [GatewayProc, GatewayProc, GatewayProc]
      alice = await tokenFor('alice')
      await startAgent(a.url, alice, origin.url, { connections: 2 })
      await untilStatus(b, 'alice', alice, 200)
      await untilStatus(c, 'alice', alice, 200)
    })
    afterAll(async () => {
      await stopAll()
      await redis.stop()
    })

    test('GET through B and C answers as through A: status, fields, several Set-Cookie, rewritten Location', async () => {
      const direct = await fetch(`${a.url}/t/alice/cookies`, { headers: auth(), redirect: 'manual' })
      for (const gw of [b, c]) {
        const r = await fetch(`${gw.url}/t/alice/cookies`, { headers: auth(), redirect: 'manual' })
        expect(r.status).toBe(302)
        expect(r.headers.getSetCookie()).toEqual(['a=1; Path=/t/alice/; HttpOnly', 'b=2; Path=/t/alice/app'])
        expect(r.headers.getSetCookie()).toEqual(direct.headers.getSetCookie())
        // The holder rewrites Location to the public origin the consumer used: B's or C's, not A's.
        expect(r.headers.get('location')).toBe(`${gw.url}/t/alice/landing`)
        expect(await r.text()).toBe('cookies')
        const hello = await fetch(`${gw.url}/t/alice/hello?x=1`, { headers: auth() })
        expect(hello.status).toBe(200)
        expect(await hello.text()).toBe('hello from origin ?x=1')
      }
    })

    test('the service sees the consumer, not the cluster: no credentials, no cluster fields, X-Forwarded-* of the first hop', async () => {
      const r = await fetch(`${b.url}/t/alice/echo-headers`, {
        headers: { ...auth(), 'burrow-cluster-auth': 'forged', 'burrow-cluster-tunnel': 'bob', 'x-forwarded-host': 'evil.example', 'x-custom': 'kept' },
      })
      expect(r.status).toBe(200)
      const seen = (await r.json()) as { headers: Record<string, string> }
      expect(Object.keys(seen.headers).filter((n) => n.startsWith('burrow-') || n === 'authorization')).toEqual([])
      expect(seen.headers['x-custom']).toBe('kept')
      expect(seen.headers['x-forwarded-host']).toBe(`127.0.0.1:${b.port}`)
      expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1')
      expect(seen.headers['x-forwarded-proto']).toBe('http')
    })

    test('SSE through B arrives event by event, not buffered until the end', async () => {
      const r = await fetch(`${b.url}/t/alice/sse?n=40&every=50`, { headers: auth() })
      expect(r.headers.get('content-type')).toContain('text/event-stream')
      const reader = r.body!.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      // The first read holds the first event(s) while the origin is still writing (40 × 50 ms).
      expect(first).toContain('id: 0')
      expect(first).not.toContain('id: 39')
      let rest = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        rest += new TextDecoder().decode(value)
      }
      expect((first + rest).match(/^id: /gm)?.length).toBe(40)
    })

    test('a 64 MiB download through C arrives whole, with the right SHA-256', async () => {
      const size = 64 * MiB
      const r = await fetch(`${c.url}/t/alice/download?size=${size}`, { headers: auth() })
      expect(r.status).toBe(200)
      const h = createHash('sha256')
      let got = 0
      for await (const chunk of r.body!) {
        h.update(chunk)
        got += chunk.byteLength
      }
      expect(got).toBe(size)
      expect(h.digest('hex')).toBe(expectedHash(size))
    })

    test('an upload through B streams to the service (8 MiB, no Content-Length)', async () => {
      const size = 8 * MiB
      let sent = 0
      const body = new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (sent >= size) return ctl.close()
          const n = Math.min(256 * 1024, size - sent)
          ctl.enqueue(patternChunk(sent, n))
          sent += n
        },
      })
      const r = await fetch(`${b.url}/t/alice/sha256`, { method: 'POST', headers: auth(), body, duplex: 'half' } as RequestInit)
      expect(r.status).toBe(200)
      expect(await r.json()).toEqual({ size, sha256: expectedHash(size) })
    })

    test('a consumer WebSocket through C echoes text and binary messages', async () => {
      const ws = new WsClient(`ws://127.0.0.1:${c.port}/t/alice/ws`, { headers: auth() })
      const got: (string | Buffer)[] = []
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve())
        ws.once('error', reject)
      })
      const two = new Promise<void>((resolve) =>
        ws.on('message', (data: Buffer, binary: boolean) => {
          got.push(binary ? data : data.toString())
          if (got.length === 2) resolve()
        }),
      )
      ws.send('hi through C')
      ws.send(Buffer.from([0, 1, 2, 255]))
      await two
      ws.close()
      expect(got[0]).toBe('hi through C')
      expect([...(got[1] as Buffer)]).toEqual([0, 1, 2, 255])
    })

    test('a consumer that leaves through B ends the exchange on A', async () => {
      const ctl = new AbortController()
      const r = await fetch(`${b.url}/t/alice/sse?n=1000&every=50`, { headers: auth(), signal: ctl.signal })
      const reader = r.body!.getReader()
      await reader.read()
      await eventually('A to count the SSE as busy', async () => ((await connectionsOf(a.url, 'alice')).some((x) => x.busy > 0) ? true : undefined))
      ctl.abort()
      await eventually('A to end the exchange once the consumer left B', async () => ((await connectionsOf(a.url, 'alice')).every((x) => x.busy === 0) ? true : undefined))
    })

    test('an unknown tunnel is 404 on every instance; a wrong token is 401 as on one instance', async () => {
      const nobody = await tokenFor('nobody')
      for (const gw of [a, b, c]) {
        const r = await fetch(`${gw.url}/t/nobody/hello`, { headers: { authorization: `Bearer ${nobody}` } })
        expect(r.status).toBe(404)
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('tunnel_not_found')
        expect((await fetch(`${gw.url}/t/alice/hello`)).status).toBe(401)
        expect((await fetch(`${gw.url}/t/alice/hello`, { headers: { authorization: `Bearer ${nobody}` } })).status).toBe(403)
      }
    })

    test('the internal route refuses consumer and admin tokens, and never forwards a second time', async () => {
      const internal = (gw: GatewayProc, headers: Record<string, string>) =>
        fetch(`${gw.url}/_burrow/internal/forward`, {
          headers: { 'burrow-cluster-hop': 'X', 'burrow-cluster-tunnel': 'alice', 'burrow-cluster-path': '/hello', 'burrow-cluster-route': 'path:', ...headers },
        })
      for (const credential of <Record<string, string>[]>[
        { authorization: `Bearer ${alice}` },
        { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        { 'burrow-cluster-auth': alice },
        { 'burrow-cluster-auth': TEST_ADMIN_TOKEN },
        { 'burrow-token': alice },
        {},
      ]) {
        expect((await internal(a, credential)).status).toBe(401)
      }
      // With the cluster secret: A, which holds alice, serves it; B and C, which do not, answer
      // 404 rather than forward it on to A.
      const good = { 'burrow-cluster-auth': TEST_CLUSTER_SECRET }
      const onA = await internal(a, good)
      expect(onA.status).toBe(200)
      expect(await onA.text()).toBe('hello from origin ')
      for (const gw of [b, c]) {
        const r = await internal(gw, good)
        expect(r.status).toBe(404)
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('tunnel_not_found')
      }
    })
  })
}
