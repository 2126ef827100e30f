import type { ServerResponse } from 'node:http'
import type { RelayedResponse } from './types.ts'

/** What @hono/node-server puts in `c.env`. */
export interface NodeBindings {
  readonly incoming?: import('node:http').IncomingMessage
  readonly outgoing?: ServerResponse
}

const EMPTY = Buffer.alloc(0)
// @hono/node-server sends nothing for a response carrying this field: the body is already on its way.
const ALREADY_SENT = 'x-hono-already-sent'

/**
 * Write a local service's response straight onto Node's ServerResponse: its fields in order and
 * byte for byte (duplicates kept, no Content-Type invented, as @hono/node-server would for a
 * Response), its reason phrase, 103 Early Hints before it, and a chunked body's trailers after it.
 * A body that fails mid-way destroys the consumer's connection, so the response is never taken
 * as complete. Returns the marker Response that tells @hono/node-server it was sent.
 */
export function respondOnNode(outgoing: ServerResponse, r: RelayedResponse): Response {
  for (const hint of r.interim) {
    if (hint.status === 103) outgoing.writeEarlyHints(fieldRecord(hint.headers))
  }
  const chunked = r.body !== null && !hasField(r.headers, 'content-length')
  // Trailers need a chunked body (RFC 9112 §7.1.2); Node throws ERR_HTTP_TRAILER_INVALID when a
  // response announcing them has a length or no body (HEAD, 204, 304). None would follow anyway.
  const headers = chunked ? (r.headers as string[]) : withoutTrailerField(r.headers)
  outgoing.writeHead(r.status, r.statusText === '' ? undefined : r.statusText, headers)
  const body = r.body
  if (body === null) outgoing.end()
  else if (body instanceof Uint8Array) outgoing.end(body)
  else {
    // The head goes out now, as on Bun and Deno: an SSE consumer sees it before the first event, and
    // a body that fails before its first chunk still shows the status it failed under. Not with
    // flushHeaders(): Node 20 writes the head as UTF-8 then, and a 0xE9 in a value becomes C3 A9.
    outgoing.write(EMPTY)
    void pump(outgoing, body, chunked ? r.trailers : undefined)
  }
  return new Response(null, { headers: { [ALREADY_SENT]: '1' } })
}

async function pump(outgoing: ServerResponse, body: ReadableStream<Uint8Array>, trailers: Promise<readonly string[]> | undefined): Promise<void> {
  const reader = body.getReader()
  // The consumer went away: stop the service's side too (the exchange closes the channel).
  const onClose = () => {
    if (!outgoing.writableFinished) reader.cancel().catch(() => {})
  }
  outgoing.once('close', onClose)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (outgoing.destroyed) return
      if (!outgoing.write(value)) await drained(outgoing)
    }
    const fields = trailers === undefined ? [] : await trailers.catch(() => [] as readonly string[])
    if (fields.length > 0) outgoing.addTrailers(pairs(fields))
    outgoing.end()
  } catch {
    // The body failed (the service or the tunnel broke off): abort, never end it cleanly. After a
    // tick: Node corks the head until then, and the consumer should still see what was sent.
    process.nextTick(() => outgoing.destroy())
  } finally {
    outgoing.off('close', onClose)
  }
}

function drained(outgoing: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      outgoing.off('drain', done)
      outgoing.off('close', done)
      resolve()
    }
    outgoing.once('drain', done)
    outgoing.once('close', done)
  })
}

function hasField(flat: readonly string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true
  return false
}

function withoutTrailerField(flat: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < flat.length; i += 2) if (flat[i] !== 'trailer') out.push(flat[i]!, flat[i + 1]!)
  return out
}

function fieldRecord(flat: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!
    const prior = out[name]
    out[name] = prior === undefined ? flat[i + 1]! : [...(Array.isArray(prior) ? prior : [prior]), flat[i + 1]!]
  }
  return out
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}
