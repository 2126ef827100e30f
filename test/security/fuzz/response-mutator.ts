/**
 * Mutations of a local service's response bytes, seeded (the same Rng gives the same result). On
 * top of mutator.ts's byte-level ones (bit flips, inserted and deleted bytes, dictionary words),
 * mutations that know the shape of a response: a header line repeated or dropped, line ends
 * changed (CRLF ↔ LF, a bare CR), the status code replaced (000, 099, 999, the 1xx), the version,
 * Content-Length or a chunk size changed, framing fields added, the bytes cut short.
 */
import { mutate, type Rng } from './mutator.ts'

/** Words a response parser cares about, for the byte-level mutations. */
export const RESPONSE_WORDS = [
  '\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', ':', ': ', '\0', '\x7f', '\x1b', '\xff', '\x80', '\xe9', ',', ';',
  'HTTP/1.1 ', 'HTTP/1.0 ', 'HTTP/2 ', '200 OK', '0\r\n\r\n', '0\r\nx-t: 1\r\n\r\n', 'ffffffff\r\n', '-1', '+5', '0x10',
  '4294967296', '18446744073709551617', ';ext=1', 'chunked', 'close', 'keep-alive', 'upgrade',
  'HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n',
  'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil',
]

/** Whole header lines that change how a response is framed or routed. */
const HEADER_LINES = [
  'Content-Length: 0', 'Content-Length: 5', 'Content-Length: 99999', 'Content-Length: 2, 2', 'Content-Length:', 'content-length: 1e3',
  'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: identity', 'transfer-encoding: CHUNKED',
  'Connection: close', 'Connection: keep-alive', 'Connection: upgrade', 'Connection: x-a, content-length', 'Upgrade: websocket',
  'Keep-Alive: timeout=1', 'Trailer: x-t', 'Proxy-Connection: keep-alive', 'Set-Cookie: burrow_session=planted; Path=/',
  'Location: http://127.0.0.1/elsewhere', 'Location: /redirected', 'x-request-id: forged', 'Date: yesterday', 'Host: other',
  'x-nul: a\0b', 'x-del: a\x7fb', 'x-esc: \x1b[31m', 'x-latin1: caf\xe9', 'x-fold: a\r\n b', ' leading: space', 'no-colon',
]

const STATUSES = ['000', '099', '100', '101', '102', '103', '199', '200', '204', '206', '304', '404', '599', '600', '999', '20', '2000', 'abc', '-01', ' 200']
const VERSIONS = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/11', 'HTTPS/1.1']

/** Where the first head ends (past its blank line), or the whole length if it never does. */
function headEnd(b: Buffer): number {
  const at = b.indexOf('\r\n\r\n')
  return at < 0 ? b.length : at + 4
}

/** Offsets at which a line starts inside the first head (after the status line). */
function lineStarts(b: Buffer): number[] {
  const end = headEnd(b)
  const out: number[] = []
  for (let i = b.indexOf('\n'); i >= 0 && i + 1 < end - 2; i = b.indexOf('\n', i + 1)) out.push(i + 1)
  return out
}

function lineAt(b: Buffer, start: number): [number, number] {
  const nl = b.indexOf('\n', start)
  return [start, nl < 0 ? b.length : nl + 1]
}

const splice = (b: Buffer, from: number, to: number, insert: Buffer | string) => Buffer.concat([b.subarray(0, from), typeof insert === 'string' ? Buffer.from(insert, 'latin1') : insert, b.subarray(to)])

/** Replace every (or one) occurrence of `from` with `to`. */
function replaceSome(b: Buffer, from: string, to: string, r: Rng): Buffer {
  const text = b.toString('latin1')
  if (r.chance(0.5)) return Buffer.from(text.split(from).join(to), 'latin1')
  const hits: number[] = []
  for (let i = text.indexOf(from); i >= 0 && hits.length < 4096; i = text.indexOf(from, i + 1)) hits.push(i)
  if (hits.length === 0) return b
  const at = r.pick(hits)
  return splice(b, at, at + from.length, to)
}

/** One structure-aware mutation. */
function mutateOnce(b: Buffer, r: Rng, maxBytes: number): Buffer {
  const lines = lineStarts(b)
  switch (r.int(14)) {
    case 0: // byte-level
      return mutate(b, r, { words: RESPONSE_WORDS, maxBytes })
    case 1:
    case 2: { // a header line twice
      if (lines.length === 0) return b
      const [s, e] = lineAt(b, r.pick(lines))
      return splice(b, e, e, b.subarray(s, e))
    }
    case 3: { // a header line dropped
      if (lines.length === 0) return b
      const [s, e] = lineAt(b, r.pick(lines))
      return splice(b, s, e, '')
    }
    case 4: // line ends: mostly bare LF (which parsers accept), sometimes broken ones
      if (r.chance(0.5)) return replaceSome(b, '\r\n', '\n', r)
      return r.pick([() => replaceSome(b, '\n', '\r\n', r), () => replaceSome(b, '\r\n', '\r', r), () => replaceSome(b, '\r\n', '\n\r', r)])()
    case 5: { // the status code
      const m = /^(\S*) (\d{3})/.exec(b.toString('latin1', 0, 32))
      if (m === null) return b
      const at = m[1]!.length + 1
      return splice(b, at, at + 3, r.pick(STATUSES))
    }
    case 6: { // the version
      const sp = b.indexOf(' ')
      return sp < 0 ? b : splice(b, 0, sp, r.pick(VERSIONS))
    }
    case 7:
    case 8: { // a framing or routing field added
      const at = lines.length === 0 ? headEnd(b) - 2 : r.pick(lines)
      return splice(b, Math.max(0, at), Math.max(0, at), `${r.pick(HEADER_LINES)}\r\n`)
    }
    case 9: { // a number changed: Content-Length or a chunk size
      const text = b.toString('latin1')
      const nums = [...text.matchAll(/(?<=content-length: ?|\n)[0-9a-fA-F]+(?=\r?\n|;)/gi)]
      if (nums.length === 0) return b
      const n = r.pick(nums)
      const value = r.pick(['0', '1', String(Number.parseInt(n[0], 16) + 1), String(Math.max(0, Number.parseInt(n[0], 10) - 1)), 'ffffffffffffffff', `00${n[0]}`, `${n[0]} `, `${n[0]}x`, '-0'])
      return splice(b, n.index!, n.index! + n[0].length, value)
    }
    case 10: { // cut short, mostly in the body
      const from = r.chance(0.75) ? Math.min(headEnd(b), b.length) : 0
      return b.subarray(0, from + r.int(b.length - from + 1))
    }
    case 11: { // another response glued on: before (an interim or a whole other answer) or after
      const other = r.pick(['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil'])
      return r.chance(0.5) ? splice(b, 0, 0, other) : Buffer.concat([b, Buffer.from(other, 'latin1')])
    }
    default: { // name case and spacing around the colon
      if (lines.length === 0) return b
      const [s, e] = lineAt(b, r.pick(lines))
      const line = b.toString('latin1', s, e)
      const colon = line.indexOf(':')
      if (colon < 0) return b
      const changed = r.pick([line.slice(0, colon).toUpperCase() + line.slice(colon), line.slice(0, colon) + ' ' + line.slice(colon), line.slice(0, colon) + ':\t\t' + line.slice(colon + 1)])
      return splice(b, s, e, changed)
    }
  }
}

/** Apply 1-4 mutations to `input`; the result is at most `maxBytes` long. */
export function mutateResponse(input: Buffer, r: Rng, maxBytes: number): Buffer {
  let b = input
  const rounds = 1 + r.int(4)
  for (let i = 0; i < rounds; i++) {
    b = mutateOnce(b, r, maxBytes)
    if (b.length > maxBytes) b = b.subarray(0, maxBytes)
  }
  return b
}
