import { expect, test } from 'bun:test'
import { patternBody, patternHash } from './support.ts'

/** Where the traffic goes: the gateway URL, the tunnel and a consumer token of its owner. */
export interface TrafficTarget {
  readonly base: string
  readonly token: string
}

/**
 * The same traffic through a tunnel whose agent is stock OpenSSH, whatever carries its SSH (raw
 * TCP or ws-stdio). No timing assertions: `ssh -R` without a session channel is Nagle-bound.
 */
export function trafficTests(target: () => TrafficTarget): void {
  const get = (path: string, init: RequestInit = {}) => {
    const t = target()
    return fetch(`${t.base}${path}`, { ...init, headers: { authorization: `Bearer ${t.token}`, ...(init.headers as Record<string, string>) } })
  }

  test('GET reaches the local service behind ssh -R', async () => {
    const res = await get('/hello?from=ssh')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('hello from origin ?from=ssh')
  })

  test('POST of 8 MiB arrives whole (SHA-256 matches)', async () => {
    const size = 8 * 1024 * 1024
    const res = await get('/sha256', { method: 'POST', body: patternBody(size), duplex: 'half' } as RequestInit)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ size, sha256: patternHash(size) })
  })

  test('SSE streams every event, in order', async () => {
    const n = 15
    const res = await get(`/sse?n=${n}&every=10`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    let text = ''
    const decoder = new TextDecoder()
    for await (const chunk of res.body!) text += decoder.decode(chunk, { stream: true })
    const ids = [...text.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { i: number }).i)
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i))
  })

  test('100 concurrent requests each get their own body', async () => {
    const bodies = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const res = await get(`/hello?i=${i}`)
        return `${res.status} ${await res.text()}`
      }),
    )
    bodies.forEach((body, i) => expect(body).toBe(`200 hello from origin ?i=${i}`))
  })
}
