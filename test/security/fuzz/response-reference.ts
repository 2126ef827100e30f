/**
 * The reference reading of what a fuzz-origin wrote: where its final head ended, which body it
 * framed, and whether that body was complete. A stock http-parser-js (the library, none of the
 * gateway's own checks) reads the bytes; the gateway may refuse more than this, never relay more.
 */
import { HTTPParser } from 'http-parser-js'

/** Fields as [name, value] pairs, values as latin1 byte strings. */
export type Pairs = [string, string][]

/** How the service ends the connection after its bytes: FIN, RST, or it keeps it open. */
export type ConnectionEnd = 'fin' | 'rst' | 'open'

export type Framing = 'length' | 'chunked' | 'close' | 'none'

export interface Reference {
  readonly interim: { readonly status: number; readonly headers: Pairs }[]
  /** The final head (any status, 101 and 0 included), or undefined if none was complete. */
  readonly head: { readonly status: number; readonly headers: Pairs; readonly keepAlive: boolean; readonly endOffset: number } | undefined
  readonly framing: Framing
  /** The body bytes framed before the bytes ran out or the parser gave up. */
  readonly body: Buffer
  readonly trailers: Pairs
  /**
   * The response is whole by its own framing; a close-delimited body only when the service ended
   * with FIN (a reset or a connection left open cuts it).
   */
  readonly complete: boolean
  /** Offset just past the first complete response; more bytes after it are trailing bytes. */
  readonly messageEnd: number | undefined
  /** Why the parser gave up, if it did. */
  readonly error: string | undefined
}

const BODYLESS = new Set([204, 304])
class Stop extends Error {}

function pairs(flat: readonly string[]): Pairs {
  const out: Pairs = []
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}

/**
 * Read `bytes` as the answer to a `method` request followed by `end`. Never throws. Parses with a
 * latin1 head encoding (http-parser-js's default 'ascii' would clear the high bit of each byte).
 */
export function reference(bytes: Buffer, method: string, end: ConnectionEnd): Reference {
  const interim: { status: number; headers: Pairs }[] = []
  let head: Reference['head']
  let framing: Framing = 'none'
  const body: Buffer[] = []
  let trailers: Pairs = []
  let complete = false
  let messageEnd: number | undefined
  let error: string | undefined
  const parser = new HTTPParser(HTTPParser.RESPONSE)
  const internals = parser as unknown as { offset: number }
  let isInterim = false
  parser[HTTPParser.kOnHeadersComplete] = (info) => {
    const status = info.statusCode
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push({ status, headers: pairs(info.headers) })
      isInterim = true
      return 1
    }
    const names = new Set(pairs(info.headers).map(([n]) => n.toLowerCase()))
    const bodyless = method === 'HEAD' || BODYLESS.has(status) || status === 101
    head = { status, headers: pairs(info.headers), keepAlive: info.shouldKeepAlive, endOffset: internals.offset }
    framing = bodyless ? 'none' : names.has('transfer-encoding') ? 'chunked' : names.has('content-length') ? 'length' : 'close'
    return bodyless ? 1 : 0
  }
  parser[HTTPParser.kOnBody] = (chunk, offset, length) => void body.push(Buffer.from(chunk.subarray(offset, offset + length)))
  parser[HTTPParser.kOnHeaders] = (t) => void (trailers = pairs(t))
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (isInterim) return void (isInterim = false)
    complete = true
    messageEnd = internals.offset
    throw new Stop()
  }
  const before = HTTPParser.encoding
  HTTPParser.encoding = 'latin1'
  try {
    const r = parser.execute(bytes)
    if (r instanceof Error && !(r instanceof Stop)) error = r.message
    if (!complete && error === undefined && head !== undefined && (framing as Framing) === 'close' && end === 'fin') {
      const f = parser.finish()
      if (f instanceof Error) error = f.message
      else complete = true
    }
  } catch (err) {
    if (!(err instanceof Stop)) error = (err as Error).message
  } finally {
    HTTPParser.encoding = before
  }
  if ((framing as Framing) === 'close' && complete) messageEnd = bytes.length
  return { interim, head, framing, body: Buffer.concat(body), trailers, complete, messageEnd, error }
}
