import type { RelayedResponse } from './types.ts'

/**
 * A local service's response as a web `Response`, for servers that take one (Bun.serve, Deno.serve,
 * `app.request()`). Such servers cannot send informational responses or trailers, so both are
 * dropped, and with them the `Trailer` field that would announce trailers that never come.
 * `bytesGetAType`: the server invents `Content-Type: application/octet-stream` for a byte body
 * without one (Bun); a one-chunk stream is sent byte for byte, with its length, and nothing invented.
 */
export function webResponse(r: RelayedResponse, options: { bytesGetAType?: boolean } = {}): Response {
  const headers = new Headers()
  let typed = false
  for (let i = 0; i < r.headers.length; i += 2) {
    const name = r.headers[i]!
    if (name === 'trailer') continue
    if (name === 'content-type') typed = true
    headers.append(name, r.headers[i + 1]!)
  }
  let body = r.body
  if (options.bytesGetAType === true && !typed && body instanceof Uint8Array && body.byteLength > 0) body = oneChunk(body)
  return new Response(body as BodyInit | null, { status: r.status, statusText: r.statusText, headers })
}

function oneChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(bytes)
      c.close()
    },
  })
}
