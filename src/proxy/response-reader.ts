import { HTTPParser } from 'http-parser-js'
import { checkInterimHead, checkResponseHead, checkTrailers, MAX_RESPONSE_HEAD_BYTES } from './response-head.ts'
import type { FieldList } from './upstream-response.ts'

// http-parser-js reads head bytes as 'ascii', which for a Buffer means "clear the high bit": the
// UTF-8 bytes of a filename became control characters, which Node relayed as a wrong value and
// Deno's server panicked over. latin1 keeps every byte as one char (a "byte string").
HTTPParser.encoding = 'latin1'

// RFC 9112 §7.1: chunk-size = 1*HEXDIG, then optional chunk extensions. 13 digits stay below 2^53.
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,13}[ \t]*(?:;.*)?$/
const NO_BODY_STATUS = new Set([204, 304])

/** The final head of a response, checked (see response-head.ts). */
export interface ResponseHead {
  readonly status: number
  readonly statusText: string
  readonly headers: FieldList
  /** The service lets the connection (our channel) carry another request after this one. */
  readonly keepAlive: boolean
  /** How long the service keeps an idle connection, ms, when it said (`Keep-Alive: timeout=N`). */
  readonly keepAliveMs: number | undefined
  /** No body follows (HEAD, 204, 304). */
  readonly bodyless: boolean
}

/** What the reader reports, in order: any interims, one head, body bytes, then the end. */
export interface ResponseEvents {
  interim(status: number, headers: FieldList): void
  head(head: ResponseHead): void
  body(bytes: Uint8Array): void
  /** The response is complete; `trailers` are the chunked body's trailer fields ([] if none). */
  complete(trailers: FieldList): void
}

/** Where one response stands: reading its head, its body, done, or refused as malformed. */
export type ReaderState = 'head' | 'body' | 'complete' | 'malformed'

class Malformed extends Error {}
/** Thrown to stop the parser when a complete response is followed by more bytes in the same read. */
class TrailingBytes extends Error {}

/**
 * Reads one HTTP/1.1 response from a local service, as bytes arrive, and reports it through
 * `events`. A response the gateway could not pass on faithfully is "malformed": `push()` or `end()`
 * returns the reason, and nothing more is reported. Named callbacks, one explicit state.
 * The parser's callbacks live on its prototype: no closures per response (docs/BENCHMARKS.md,
 * "Allocations per request").
 */
export class ResponseReader {
  #state: ReaderState = 'head'
  readonly #parser: ReaderParser
  readonly #events: ResponseEvents
  readonly #method: string
  #interim = false
  #trailers: FieldList = NO_FIELDS
  #trailingBytes = false

  constructor(method: string, events: ResponseEvents) {
    this.#method = method
    this.#events = events
    this.#parser = new ReaderParser(this)
  }

  get state(): ReaderState {
    return this.#state
  }

  /**
   * The response is complete and nothing followed it: the channel could carry another exchange
   * (if the service agreed to keep the connection alive). Bytes after a response mean the service
   * and the gateway disagree about where it ended; such a channel is never reused.
   */
  get cleanEnd(): boolean {
    return this.#state === 'complete' && !this.#trailingBytes
  }

  /** Parse `data`; returns why the response is malformed, or undefined. */
  push(data: Buffer): string | undefined {
    if (this.#state === 'malformed') return this.#reason
    if (this.#state === 'complete') {
      this.#trailingBytes = true
      return undefined
    }
    let result: unknown
    try {
      result = this.#parser.execute(data)
    } catch (err) {
      result = err
    }
    if (result instanceof TrailingBytes) {
      this.#trailingBytes = true
      return undefined
    }
    // A read that completed the response leaves http-parser-js at the next status line, and it
    // then counts the whole read as head bytes of that next response: a body's last read over 64 KiB
    // (a TCP socket between instances, never a 32 KiB SSH packet) would read as a head too large.
    if (result instanceof Error && (this.#state as ReaderState) === 'complete') return undefined
    if (result instanceof Error) return this.#fail(result instanceof Malformed ? result.message : `malformed response (${result.message})`)
    return undefined
  }

  /** The service closed its side. Ends a body that runs until close; otherwise the response was cut. */
  end(): string | undefined {
    if (this.#state === 'complete' || this.#state === 'malformed') return undefined
    if (this.#state === 'body') {
      const r = this.#parser.finish()
      if (!(r instanceof Error) && (this.#state as ReaderState) === 'complete') return undefined
    }
    return this.#fail(this.#state === 'head' ? 'the local service closed the connection without a response' : 'the local service closed the connection before the response was complete')
  }

  #reason = ''
  #fail(reason: string): string {
    this.#state = 'malformed'
    this.#reason = reason
    return reason
  }

  /** @internal The parser's kOnHeadersComplete. */
  onHeadersComplete(info: { statusCode: number; statusMessage: string; headers: string[]; shouldKeepAlive: boolean }): number {
    const status = info.statusCode
    if (status >= 100 && status < 200) {
      // 101 answers an upgrade this request did not ask for; 100 Continue is for the sender only.
      if (status === 101) throw new Malformed('the local service switched protocols without being asked')
      this.#interim = true
      if (status !== 100) {
        const fields = checkInterimHead(info.headers)
        if (fields !== undefined) this.#events.interim(status, fields)
      }
      return 1
    }
    // http-parser-js checks its size limit only between reads: a head that completes within one
    // read (or its last SSH packet) would slip past it. Its size as sent, measured here.
    if (headBytes(info.statusMessage, info.headers) > MAX_RESPONSE_HEAD_BYTES) throw new Malformed(`malformed response head: larger than ${MAX_RESPONSE_HEAD_BYTES} bytes`)
    const verdict = checkResponseHead(status, info.statusMessage, info.headers)
    if (!verdict.ok) throw new Malformed(`malformed response head: ${verdict.reason}`)
    const bodyless = this.#method === 'HEAD' || NO_BODY_STATUS.has(status)
    this.#state = 'body'
    this.#events.head({ status, statusText: verdict.statusText, headers: verdict.headers, keepAlive: info.shouldKeepAlive, keepAliveMs: keepAliveTimeout(info.headers), bodyless })
    // 1 tells the parser no body follows whatever the fields say (a HEAD answer's Content-Length).
    return bodyless ? 1 : 0
  }

  /** @internal The parser's kOnHeaders: a chunked body's trailers. */
  onTrailers(fields: string[]): void {
    this.#trailers = checkTrailers(fields)
  }

  /** @internal The parser's kOnBody. */
  onBody(bytes: Uint8Array): void {
    if (this.#state === 'body') this.#events.body(bytes)
  }

  /** @internal The parser's kOnMessageComplete. */
  onMessageComplete(): void {
    if (this.#interim) {
      this.#interim = false
      return
    }
    if (this.#state !== 'body') return
    this.#state = 'complete'
    this.#events.complete(this.#trailers)
    // The parser would read what follows as the next response: stop it here.
    const p = this.#parser as unknown as { offset: number; end: number }
    if (p.offset < p.end) throw new TrailingBytes()
  }
}

/** Bytes of a head as written: the status line and each `name: value` line with their CRLFs. */
function headBytes(statusMessage: string, raw: readonly string[]): number {
  let n = 15 + statusMessage.length
  for (let i = 0; i < raw.length; i += 2) n += raw[i]!.length + raw[i + 1]!.length + 4
  return n
}

/** `Keep-Alive: timeout=5, max=100` (RFC 2068 §19.7.1.1, still what servers send) → 5000 ms. */
function keepAliveTimeout(raw: readonly string[]): number | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'keep-alive') continue
    const m = /(?:^|[,;\s])timeout\s*=\s*(\d{1,6})/i.exec(raw[i + 1]!)
    if (m !== null) return Number(m[1]) * 1000
  }
  return undefined
}

const NO_FIELDS: FieldList = []

interface ParserInternals {
  state: string
  body_bytes: number | null
  consumeLine(): string | undefined
}

type HeadInfo = Parameters<ResponseReader['onHeadersComplete']>[0]

/**
 * http-parser-js calls `this[kOn…]` on itself, so the reader's callbacks are methods of this
 * subclass's prototype, shared by every response, instead of four closures per response.
 */
class ReaderParser extends HTTPParser {
  constructor(readonly reader: ResponseReader) {
    super(HTTPParser.RESPONSE)
    ;(this as unknown as { maxHeaderSize: number }).maxHeaderSize = MAX_RESPONSE_HEAD_BYTES
  }
}
Object.assign(ReaderParser.prototype, {
  // A malformed chunk-size line must not read as the last chunk (http-parser-js parses `zz` as 0).
  BODY_CHUNKHEAD(this: ParserInternals) {
    const line = this.consumeLine()
    if (line === undefined) return
    if (!CHUNK_SIZE.test(line)) throw new Malformed('invalid chunk size')
    this.body_bytes = parseInt(line, 16)
    this.state = this.body_bytes > 0 ? 'BODY_CHUNK' : 'BODY_CHUNKTRAILERS'
  },
  [HTTPParser.kOnHeadersComplete](this: ReaderParser, info: HeadInfo) {
    return this.reader.onHeadersComplete(info)
  },
  [HTTPParser.kOnHeaders](this: ReaderParser, fields: string[]) {
    this.reader.onTrailers(fields)
  },
  [HTTPParser.kOnBody](this: ReaderParser, chunk: Buffer, offset: number, length: number) {
    this.reader.onBody(chunk.subarray(offset, offset + length))
  },
  [HTTPParser.kOnMessageComplete](this: ReaderParser) {
    this.reader.onMessageComplete()
  },
})
