/**
 * Seeds for the response-direction fuzz: what a local service might answer, valid and edge. The
 * fuzz-origin (test/fixtures/fuzz-origin.ts) writes them, mutated or not, onto its raw socket.
 * Everything here is deterministic (no randomness), because the origin and the campaign each
 * rebuild the same case from its seed and id.
 */
import { RAW_RESPONSES } from '../../fixtures/raw-responses.ts'

/**
 * What the gateway must do with a seed written unmutated, in one piece or split, without stalls:
 * `relay` it whole and cleanly, `refuse` it (502), or `any` outcome the general oracle allows.
 */
export type SeedExpectation = 'relay' | 'refuse' | 'any'

export interface ResponseSeed {
  readonly name: string
  /** The bytes the service writes (latin1: one char per byte). */
  readonly bytes: Buffer
  /** The request method this answer is meant for; undefined: GET, POST or HEAD. */
  readonly method?: 'GET' | 'HEAD'
  readonly expect: SeedExpectation
}

const b = (s: string) => Buffer.from(s, 'latin1')
const crlf = (...lines: string[]) => lines.join('\r\n')
/** The UTF-8 bytes of `s` as a latin1 string. */
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1')

/** Every byte value once: a body no text decoding may touch. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
/** A deterministic body of `n` bytes (not all one letter, so a shifted copy is noticed). */
function pattern(n: number): Buffer {
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) out[i] = 0x61 + ((i * 7 + (i >> 8)) % 26)
  return out
}

function withLength(head: string, body: Buffer): Buffer {
  return Buffer.concat([b(`${head}\r\ncontent-length: ${body.length}\r\n\r\n`), body])
}

function chunked(head: string, parts: readonly Buffer[], trailer = ''): Buffer {
  const out: Buffer[] = [b(`${head}\r\ntransfer-encoding: chunked\r\n\r\n`)]
  for (const p of parts) out.push(b(`${p.length.toString(16)}\r\n`), p, b('\r\n'))
  out.push(b(`0\r\n${trailer}\r\n`))
  return Buffer.concat(out)
}

const fields = (n: number, prefix = 'x-f') => Array.from({ length: n }, (_, i) => `${prefix}${i}: v${i}`).join('\r\n')
const events = Array.from({ length: 12 }, (_, i) => b(`data: {"token":${i},"text":"w${i}"}\n\n`))

const VALID: ResponseSeed[] = [
  { name: 'cl-text', bytes: withLength(crlf('HTTP/1.1 200 OK', 'content-type: text/plain'), b('hello world')), expect: 'relay' },
  { name: 'cl-empty', bytes: withLength('HTTP/1.1 200 OK', Buffer.alloc(0)), expect: 'relay' },
  { name: 'cl-binary', bytes: withLength(crlf('HTTP/1.1 200 OK', 'content-type: application/octet-stream'), ALL_BYTES), expect: 'relay' },
  { name: 'cl-large', bytes: withLength(crlf('HTTP/1.1 200 OK', 'content-type: application/octet-stream'), pattern(256 * 1024)), expect: 'relay' },
  { name: 'keep-alive', bytes: withLength(crlf('HTTP/1.1 200 OK', 'connection: keep-alive', 'keep-alive: timeout=5', 'content-type: application/json'), b('{"ok":true}')), expect: 'relay' },
  { name: 'chunked', bytes: chunked(crlf('HTTP/1.1 200 OK', 'content-type: text/plain'), [b('hello'), b(' '), b('world')]), expect: 'relay' },
  { name: 'chunked-sse', bytes: chunked(crlf('HTTP/1.1 200 OK', 'content-type: text/event-stream', 'cache-control: no-cache'), events), expect: 'relay' },
  { name: 'chunked-large', bytes: chunked(crlf('HTTP/1.1 200 OK'), Array.from({ length: 40 }, (_, i) => pattern(3000 + i * 97))), expect: 'relay' },
  {
    name: 'chunked-trailers',
    bytes: b(crlf('HTTP/1.1 200 OK', 'content-type: text/plain', 'trailer: x-checksum, x-count', 'transfer-encoding: chunked', '', '5;ext=1', 'hello', '0006', ' world', '0', 'x-checksum: abc123', 'x-count: 2', '', '')),
    expect: 'relay',
  },
  { name: 'chunked-upper-hex', bytes: b(crlf('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', '', 'A', '0123456789', '1a', 'abcdefghijklmnopqrstuvwxyz', '0', '', '')), expect: 'relay' },
  { name: 'continue-then-200', bytes: b(crlf('HTTP/1.1 100 Continue', '', 'HTTP/1.1 200 OK', 'content-length: 2', '', 'ok')), expect: 'relay' },
  { name: 'early-hints', bytes: b(crlf('HTTP/1.1 103 Early Hints', 'link: </style.css>; rel=preload; as=style', 'link: </app.js>; rel=preload; as=script', '', 'HTTP/1.1 200 OK', 'content-type: text/html', 'link: </style.css>; rel=preload; as=style', 'content-length: 13', '', '<html></html>')), expect: 'relay' },
  { name: 'processing-hints-200', bytes: b(crlf('HTTP/1.1 102 Processing', '', 'HTTP/1.1 103 Early Hints', 'link: </a.css>; rel=preload', '', 'HTTP/1.1 200 OK', 'content-length: 4', '', 'done')), expect: 'relay' },
  { name: 'head-length', method: 'HEAD', bytes: b(crlf('HTTP/1.1 200 OK', 'content-type: text/plain', 'content-length: 1234', '', '')), expect: 'relay' },
  { name: 'head-chunked', method: 'HEAD', bytes: b(crlf('HTTP/1.1 200 OK', 'transfer-encoding: chunked', '', '')), expect: 'relay' },
  { name: 'head-404', method: 'HEAD', bytes: b(crlf('HTTP/1.1 404 Not Found', 'content-length: 9', '', '')), expect: 'relay' },
  { name: 'no-content', bytes: b(crlf('HTTP/1.1 204 No Content', 'x-a: 1', '', '')), expect: 'relay' },
  { name: 'not-modified', bytes: b(crlf('HTTP/1.1 304 Not Modified', 'etag: "abc"', 'cache-control: max-age=60', '', '')), expect: 'relay' },
  { name: 'close-delimited', bytes: b(crlf('HTTP/1.1 200 OK', 'content-type: text/plain', 'connection: close', '', 'the body runs until the connection closes')), expect: 'relay' },
  { name: 'http10-close', bytes: b(crlf('HTTP/1.0 200 OK', 'content-type: text/plain', '', 'an HTTP/1.0 body until close')), expect: 'relay' },
  { name: 'http10-keep-alive', bytes: withLength(crlf('HTTP/1.0 200 OK', 'connection: keep-alive'), b('ten bytes!')), expect: 'relay' },
  { name: 'zero-headers', bytes: b(crlf('HTTP/1.1 200 OK', '', 'no fields at all, body until close')), expect: 'relay' },
  { name: 'zero-headers-204', bytes: b('HTTP/1.1 204 No Content\r\n\r\n'), expect: 'relay' },
  { name: 'no-reason', bytes: withLength('HTTP/1.1 200 ', b('ok')), expect: 'relay' },
  { name: 'many-headers-200', bytes: withLength(crlf('HTTP/1.1 200 OK', fields(200)), b('ok')), expect: 'relay' },
  { name: 'big-header-32k', bytes: withLength(crlf('HTTP/1.1 200 OK', `x-big: ${'b'.repeat(32 * 1024)}`), b('ok')), expect: 'relay' },
  { name: 'non-ascii-values', bytes: withLength(crlf('HTTP/1.1 200 Ça va', `content-disposition: attachment; filename="${utf8('文件.txt')}"`, 'x-latin1: caf\u00e9', `x-utf8: ${utf8('ünïcödé ✓')}`), b('ok')), expect: 'relay' },
  { name: 'duplicates-cookies', bytes: withLength(crlf('HTTP/1.1 200 OK', 'set-cookie: a=1; Path=/', 'set-cookie: b=2; Path=/app; HttpOnly', 'set-cookie: c=3', 'x-dup: one', 'x-dup: two', 'vary: accept', 'vary: origin'), b('ok')), expect: 'relay' },
  { name: 'redirect', bytes: withLength(crlf('HTTP/1.1 302 Found', 'location: /landing?x=1', 'content-location: /here'), b('moved')), expect: 'relay' },
  { name: 'name-case-ows', bytes: withLength(crlf('HTTP/1.1 200 OK', 'X-MiXeD-CaSe:value', 'x-ows:   padded   ', 'x-empty:', 'x-tab:\tt\t'), b('ok')), expect: 'relay' },
  { name: 'connection-listed', bytes: withLength(crlf('HTTP/1.1 200 OK', 'connection: x-hop, keep-alive', 'x-hop: secret', 'x-kept: yes', 'proxy-connection: keep-alive'), b('ok')), expect: 'relay' },
  { name: 'cl-leading-zeros', bytes: b(crlf('HTTP/1.1 200 OK', 'content-length: 0005', '', 'hello')), expect: 'relay' },
  ...[201, 301, 400, 404, 418, 429, 500, 503, 599].map((s) => ({ name: `status-${s}`, bytes: withLength(`HTTP/1.1 ${s} Whatever`, b(`{"status":${s}}`)), expect: 'relay' as const })),
]

const EDGE: ResponseSeed[] = [
  { name: 'many-headers-300', bytes: withLength(crlf('HTTP/1.1 200 OK', fields(300)), b('ok')), expect: 'refuse' },
  { name: 'big-header-70k', bytes: withLength(crlf('HTTP/1.1 200 OK', `x-big: ${'b'.repeat(70 * 1024)}`), b('ok')), expect: 'refuse' },
  { name: 'upgrade-unasked', bytes: b(crlf('HTTP/1.1 101 Switching Protocols', 'upgrade: websocket', 'connection: upgrade', '', 'frames')), expect: 'refuse' },
  { name: 'status-1xx-only', bytes: b(crlf('HTTP/1.1 103 Early Hints', 'link: </a>', '', '')), expect: 'any' },
  { name: 'lf-only', bytes: b('HTTP/1.1 200 OK\ncontent-length: 2\n\nok'), expect: 'any' },
  { name: 'response-then-more', bytes: b(crlf('HTTP/1.1 200 OK', 'content-length: 2', '', 'okHTTP/1.1 200 OK', 'content-length: 4', '', 'evil')), expect: 'relay' },
  { name: 'head-with-body', method: 'HEAD', bytes: withLength('HTTP/1.1 200 OK', b('a body a HEAD answer must not have')), expect: 'relay' },
  { name: 'chunked-cut', bytes: b(crlf('HTTP/1.1 200 OK', 'transfer-encoding: chunked', '', '10', 'only-a-part')), expect: 'any' },
  { name: 'length-cut', bytes: b(crlf('HTTP/1.1 200 OK', 'content-length: 100', '', 'short')), expect: 'any' },
  ...Object.entries(RAW_RESPONSES).map(([name, text]) => ({ name: `raw-${name}`, bytes: b(text), expect: 'any' as const })),
]

/** The seed corpus, valid answers first. */
export const RESPONSE_SEEDS: readonly ResponseSeed[] = [...VALID, ...EDGE]
