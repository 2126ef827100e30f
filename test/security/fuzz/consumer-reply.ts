/**
 * The consumer's side of a response-direction fuzz case: one request on its own TCP connection
 * (`Connection: close`), every byte the gateway sends back, and how the connection ended. Then a
 * reading of those bytes that keeps what a fetch() would hide: the raw head lines (to look for
 * control bytes), interim heads, the framing, trailers, and whether the body ended as its framing
 * says or was cut off.
 */
import { connect } from 'node:net'
import { reference, type Framing, type Pairs } from './response-reference.ts'

export interface RawExchange {
  readonly bytes: Buffer
  /** The gateway closed with FIN, reset the connection, or the cap passed first. */
  readonly ended: 'fin' | 'reset' | 'timeout'
  /** ms from the connect to that end. */
  readonly ms: number
}

/**
 * Write `request` to 127.0.0.1:`port` and collect the answer until the gateway closes the
 * connection or `capMs` passes. Never rejects.
 */
export function consumerExchange(port: number, request: Buffer, capMs: number): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now()
    const socket = connect({ port, host: '127.0.0.1' })
    const chunks: Buffer[] = []
    let done = false
    const finish = (ended: RawExchange['ended']) => {
      if (done) return
      done = true
      clearTimeout(cap)
      socket.destroy()
      resolve({ bytes: Buffer.concat(chunks), ended, ms: Date.now() - started })
    }
    const cap = setTimeout(() => finish('timeout'), capMs)
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('end', () => finish('fin'))
    socket.on('error', () => finish('reset'))
    socket.on('close', () => finish('fin'))
    socket.on('connect', () => socket.write(request))
  })
}

export interface ConsumerReply {
  /**
   * Each head (interims, then the final one) as its raw lines, without line ends; when the bytes
   * stop inside a head, its complete lines so far.
   */
  readonly headLines: string[][]
  /**
   * Without a complete final head: the bytes after the interim heads (a head torn off by an
   * abort; '' when the connection closed before its first byte). Undefined when there is a head.
   */
  readonly partialHead: string | undefined
  /** Something other than CRLF ended a head line (a bare LF or CR). */
  readonly badLineEnds: boolean
  readonly interim: { status: number; headers: Pairs }[]
  readonly head: { status: number; headers: Pairs } | undefined
  readonly framing: Framing
  readonly body: Buffer
  readonly trailers: Pairs
  /** The body ended as its framing says (a close-delimited one: with FIN, not a reset). */
  readonly complete: boolean
  /** Bytes after the end of the response (a second answer on a `Connection: close` exchange). */
  readonly extra: number
  readonly error: string | undefined
}

/** Read what the gateway sent for a `method` request (see ConsumerReply). */
export function readReply(x: RawExchange, method: string): ConsumerReply {
  const ref = reference(x.bytes, method, x.ended === 'fin' ? 'fin' : 'rst')
  const { headLines, badLineEnds, rest } = rawHeads(x.bytes, ref.interim.length + 1)
  return {
    headLines,
    partialHead: ref.head === undefined ? rest : undefined,
    badLineEnds,
    interim: ref.interim,
    head: ref.head === undefined ? undefined : { status: ref.head.status, headers: ref.head.headers },
    framing: ref.framing,
    body: ref.body,
    trailers: ref.trailers,
    complete: ref.complete,
    extra: ref.messageEnd === undefined ? 0 : x.bytes.length - ref.messageEnd,
    error: ref.error,
  }
}

/**
 * The first `count` heads of `bytes` as lines (a head ends at the first empty line; of one cut
 * short, its complete lines), and what follows the heads before the last.
 */
function rawHeads(bytes: Buffer, count: number): { headLines: string[][]; badLineEnds: boolean; rest: string } {
  const text = bytes.toString('latin1')
  const heads: string[][] = []
  let badLineEnds = false
  let at = 0
  let rest = text
  // An interim head's message has no body: the next head starts right after it.
  for (let h = 0; h < count && at < text.length; h++) {
    rest = text.slice(at)
    const end = text.indexOf('\r\n\r\n', at)
    const block = end >= 0 ? text.slice(at, end) : text.slice(at, Math.max(at, text.lastIndexOf('\r\n')))
    if (block === '' && end < 0) break
    const lines = block.split('\r\n')
    if (lines.some((l) => l.includes('\n') || l.includes('\r'))) badLineEnds = true
    heads.push(lines)
    if (end < 0) break
    at = end + 4
  }
  if (at >= text.length) rest = ''
  return { headLines: heads, badLineEnds, rest }
}
