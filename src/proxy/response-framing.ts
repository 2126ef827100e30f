import { HTTPParser } from 'http-parser-js'

/**
 * The local service's response must frame its body one unambiguous way before the gateway relays
 * it. http-parser-js is lenient where a gateway cannot be: it takes `content-length: -1` or `2x`,
 * lets Transfer-Encoding silently win over Content-Length, and reads a chunk size of `zz` as the
 * last chunk. Relayed, those become a response whose Content-Length disagrees with its body (Node
 * writes the header as given), which desynchronises the consumer's connection and, behind a shared
 * front proxy, the next consumer's response (RFC 9112 §6.3, §11.2). Such a response ends in 502.
 */

const DIGITS = /^\d{1,15}$/
// RFC 9112 §7.1: chunk-size = 1*HEXDIG, then optional chunk extensions. 13 digits stay below 2^53.
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,13}[ \t]*(?:;.*)?$/

/** Throws (with the reason) unless the response head's framing fields are unambiguous. */
export function assertSoundFraming(rawHeaders: readonly string[]): void {
  let lengths = 0
  let codings = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    const value = rawHeaders[i + 1]!
    if (name === 'content-length') {
      if (++lengths > 1) throw new Error('more than one Content-Length')
      if (!DIGITS.test(value)) throw new Error(`Content-Length ${JSON.stringify(value.slice(0, 20))} is not a number`)
    } else if (name === 'transfer-encoding') {
      if (++codings > 1 || value.toLowerCase() !== 'chunked') throw new Error('a Transfer-Encoding other than chunked')
    }
  }
  if (lengths > 0 && codings > 0) throw new Error('both Content-Length and Transfer-Encoding')
}

interface ParserInternals {
  state: string
  body_bytes: number | null
  consumeLine(): string | undefined
}

/** A response parser that refuses a malformed chunk-size line instead of reading it as the end. */
export function strictResponseParser(): InstanceType<typeof HTTPParser> {
  const parser = new HTTPParser(HTTPParser.RESPONSE)
  // The parser calls `this[this.state]()`; an own property replaces just this one state.
  ;(parser as unknown as Record<string, unknown>).BODY_CHUNKHEAD = function (this: ParserInternals) {
    const line = this.consumeLine()
    if (line === undefined) return
    if (!CHUNK_SIZE.test(line)) throw Object.assign(new Error('invalid chunk size'), { code: 'HPE_INVALID_CHUNK_SIZE' })
    this.body_bytes = parseInt(line, 16)
    this.state = this.body_bytes > 0 ? 'BODY_CHUNK' : 'BODY_CHUNKTRAILERS'
  }
  return parser
}
