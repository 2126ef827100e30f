/**
 * A raw HTTP/1.1 client for the differential tests. One request per TCP connection, written byte
 * for byte as given, and the response read with everything fetch() hides: interim 1xx heads,
 * header names and bytes as sent (values are latin1 strings, one char per byte), trailers, the
 * framing used, and when each piece of the body arrived.
 */
import { connect, type Socket } from 'node:net'
import { HTTPParser } from 'http-parser-js'

/** Header fields in wire order: [name, value], value as latin1 (one char per byte). */
export type HeaderList = readonly (readonly [string, string])[]

export interface RawRequest {
  readonly port: number
  readonly method: string
  /** Request target as sent, e.g. `/t/alice/get?x=1`. */
  readonly target: string
  /** Sent in this order, exactly (Host included by the caller). */
  readonly headers: HeaderList
  readonly body?: Uint8Array
  /** Resolve with `error: 'timeout'` after this many ms (default 20000). */
  readonly timeoutMs?: number
  /** Hang up when this aborts, whatever has arrived (a consumer that gives up). */
  readonly signal?: AbortSignal
}

export interface RawHead {
  readonly status: number
  readonly headers: HeaderList
}

/** How the body was delimited (RFC 9112 §6.3). */
export type Framing = 'length' | 'chunked' | 'close' | 'none'

export interface RawResponse {
  /** 1xx heads before the final one (not 101, which is final for an upgrade). */
  readonly interim: readonly RawHead[]
  /** The final head, or undefined if none arrived. */
  readonly head: RawHead | undefined
  readonly framing: Framing
  readonly body: Buffer
  /** Body bytes per read, with the ms since the request was written. */
  readonly arrivals: readonly { readonly atMs: number; readonly bytes: number }[]
  readonly trailers: HeaderList
  /** The message ended as its framing says (not cut short, not timed out). */
  readonly complete: boolean
  /** After a 101: the still open socket and the bytes that followed the head (the first frames). */
  readonly upgraded?: { readonly socket: Socket; readonly rest: Buffer }
  readonly error?: string
}

const BODYLESS = new Set([204, 304])

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}

/** http-parser-js decodes heads with a module-wide encoding ('ascii' strips the high bit); latin1 keeps every byte. */
function execute(parser: InstanceType<typeof HTTPParser>, data: Buffer): number | Error {
  const before = HTTPParser.encoding
  HTTPParser.encoding = 'latin1'
  try {
    return parser.execute(data)
  } finally {
    HTTPParser.encoding = before
  }
}

/** Send one request and read one response; never rejects (failures are in `error`). */
export function rawRequest(req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve) => {
    const interim: RawHead[] = []
    let head: RawHead | undefined
    let framing: Framing = 'none'
    const body: Buffer[] = []
    const arrivals: { atMs: number; bytes: number }[] = []
    let trailers: [string, string][] = []
    let complete = false
    let upgraded: RawResponse['upgraded']
    let done = false
    let sentAt = performance.now()
    let readBytes = 0

    const socket = connect({ host: '127.0.0.1', port: req.port })
    socket.setNoDelay(true)
    const finish = (error?: string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      req.signal?.removeEventListener('abort', onAbort)
      if (upgraded === undefined) socket.destroy()
      else {
        // Handed over: paused so that nothing arrives before the new owner listens.
        socket.pause()
        socket.removeAllListeners()
      }
      resolve({ interim, head, framing, body: Buffer.concat(body), arrivals, trailers, complete, upgraded, error })
    }
    const timer = setTimeout(() => finish('timeout'), req.timeoutMs ?? 20_000)
    const onAbort = () => finish('aborted by the client')
    req.signal?.addEventListener('abort', onAbort)

    const parser = new HTTPParser(HTTPParser.RESPONSE)
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      const h: RawHead = { status: info.statusCode, headers: pairs(info.headers) }
      if (info.statusCode >= 100 && info.statusCode < 200 && info.statusCode !== 101) {
        interim.push(h)
        return 1
      }
      head = h
      const names = new Set(h.headers.map(([n]) => n.toLowerCase()))
      const noBody = req.method === 'HEAD' || BODYLESS.has(info.statusCode) || info.statusCode === 101
      framing = noBody ? 'none' : names.has('transfer-encoding') ? 'chunked' : names.has('content-length') ? 'length' : 'close'
      return noBody ? 1 : 0
    }
    parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
      body.push(Buffer.from(chunk.subarray(offset, offset + length)))
    }
    parser[HTTPParser.kOnHeaders] = (t) => {
      trailers = pairs(t)
    }
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (head === undefined) return // an interim head ended
      complete = true
    }

    socket.on('data', (data: Buffer) => {
      const before = body.reduce((n, b) => n + b.length, 0)
      const r = execute(parser, data)
      if (r instanceof Error) return finish(`malformed response: ${r.message}`)
      readBytes += data.length
      const after = body.reduce((n, b) => n + b.length, 0)
      if (after > before) arrivals.push({ atMs: performance.now() - sentAt, bytes: after - before })
      if (head?.status === 101) {
        upgraded = { socket, rest: data.subarray(r) }
        complete = true
        return finish()
      }
      if (complete) finish()
    })
    socket.on('end', () => {
      if (!complete && framing === 'close' && !(parser.finish() instanceof Error)) complete = true
      finish(complete ? undefined : head === undefined ? (readBytes === 0 ? 'closed without a response' : 'closed mid-head') : 'closed mid-body')
    })
    socket.on('error', (err) => finish(`socket error: ${err.message}`))
    socket.on('connect', () => {
      let text = `${req.method} ${req.target} HTTP/1.1\r\n`
      for (const [name, value] of req.headers) text += `${name}: ${value}\r\n`
      const headBytes = Buffer.from(`${text}\r\n`, 'latin1')
      socket.write(req.body === undefined ? headBytes : Buffer.concat([headBytes, req.body]))
      sentAt = performance.now()
    })
  })
}

/**
 * Group body arrivals into bursts: a new burst starts when the gap since the previous arrival is at
 * least `gapMs`. An origin that sends events `2 * gapMs` apart shows one burst per event; a proxy
 * that batches them shows fewer.
 */
export function bursts(arrivals: RawResponse['arrivals'], gapMs: number): number {
  let count = 0
  let last = -Infinity
  for (const a of arrivals) {
    if (a.atMs - last >= gapMs) count++
    last = a.atMs
  }
  return count
}
