import { describe, expect, test } from 'bun:test'
import { checkRequest, MAX_HEADER_BYTES, MAX_HEADER_FIELDS, MAX_TARGET_BYTES, type GuardInput } from '../../src/gateway/request-guard.ts'

const HOST = 'gw.test'

/** A request as a runtime would hand it over; headers as pairs so duplicates stay visible. */
function req(overrides: Partial<Omit<GuardInput, 'headers'>> & { headers?: [string, string][] } = {}): GuardInput {
  const headers = new Headers()
  for (const [k, v] of overrides.headers ?? [['host', HOST]]) headers.append(k, v)
  return { method: overrides.method ?? 'GET', url: overrides.url ?? `http://${HOST}/t/alice/x`, headers }
}

const withHost = (...more: [string, string][]): [string, string][] => [['host', HOST], ...more]

describe('checkRequest()', () => {
  test.each([
    ['an origin-form GET', req()],
    ['a Host with a port and a matching URL', req({ url: 'http://gw.test:8080/t/alice/x', headers: [['host', 'gw.test:8080']] })],
    ['Host in another case than the URL', req({ headers: [['host', 'GW.Test']] })],
    ['Host with the default port', req({ headers: [['host', 'gw.test:80']] })],
    ['an IPv6 literal Host', req({ url: 'http://[::1]:8080/x', headers: [['host', '[::1]:8080']] })],
    ['a POST with a Content-Length', req({ method: 'POST', headers: withHost(['content-length', '5']) })],
    ['a chunked POST', req({ method: 'POST', headers: withHost(['transfer-encoding', 'Chunked']) })],
    ['an encoded slash and dots inside a segment', req({ url: `http://${HOST}/t/alice/a..b/%2F/.well-known/x.y` })],
    ['dots in the query', req({ url: `http://${HOST}/t/alice/x?p=/../../etc` })],
    ['exactly the target limit', req({ url: `http://${HOST}/${'a'.repeat(MAX_TARGET_BYTES - 1)}` })],
    ['a custom method', req({ method: 'PURGE' })],
    ['a WebDAV method', req({ method: 'PROPFIND' })],
    ['no Host (HTTP/1.0, HTTP/2, app.request()): the URL has the authority', req({ headers: [] })],
  ])('lets through %s', (_name, input) => {
    expect(checkRequest(input)).toBeUndefined()
  })

  test.each([
    ['CONNECT', req({ method: 'CONNECT', url: 'http://gw.test/' }), 'bad_request', /forward proxy/],
    ['a method that is not a token', req({ method: 'G(T' }), 'bad_request', /method/],
    ['a token method with odd characters (Deno forwarded G%00ET)', req({ method: 'G%00ET' }), 'bad_request', /method/],
    ['a lower-case method (Deno lets it through; methods are case-sensitive)', req({ method: 'get' }), 'bad_request', /method/],
    ['an unregistered method (Deno forwarded PUV, which Node refuses as malformed)', req({ method: 'PUV' }), 'bad_request', /unknown method "PUV"/],
    ['two Host fields (joined by the runtime)', req({ headers: [['host', 'alice.gw.test'], ['host', 'bob.gw.test']] }), 'bad_request', /Host/],
    ['a Host with a path (Deno splices it into the URL)', req({ headers: [['host', 'gw.test/evil#']] }), 'bad_request', /Host/],
    ['a Host with userinfo', req({ headers: [['host', 'x@gw.test']] }), 'bad_request', /Host/],
    ['a Host with a space', req({ headers: [['host', 'gw test']] }), 'bad_request', /Host/],
    ['a Host that reads as a broken IPv4 address (found by the fuzz on Node upgrades)', req({ url: 'http://localhost/t/alice/ws', headers: [['host', '127.0.027.0.027.0'], ['upgrade', 'websocket']]}), 'bad_request', /Host/],
    ['a Host with a port out of range', req({ headers: [['host', 'gw.test:99999']] }), 'bad_request', /Host/],
    ['a relative URL (Bun, for a malformed Host)', req({ url: '/t/alice/x' }), 'bad_request', /not a valid URL/],
    ['an absolute-form target for another host', req({ url: 'http://bob.gw.test/x', headers: [['host', 'alice.gw.test']] }), 'bad_request', /another host/],
    ['an absolute-form target for another port', req({ url: 'http://gw.test:81/x' }), 'bad_request', /another host/],
    ['a raw ../ (Deno keeps it)', req({ url: `http://${HOST}/t/alice/../bob/x` }), 'bad_request', /dot segments/],
    ['a trailing /..', req({ url: `http://${HOST}/t/alice/..` }), 'bad_request', /dot segments/],
    ['a /./', req({ url: `http://${HOST}/t/./alice/x` }), 'bad_request', /dot segments/],
    ['an encoded %2e%2e', req({ url: `http://${HOST}/t/alice/%2e%2E/bob` }), 'bad_request', /dot segments/],
    ['a half-encoded .%2e', req({ url: `http://${HOST}/t/alice/.%2e/bob` }), 'bad_request', /dot segments/],
    ['a backslash', req({ url: `http://${HOST}/t/alice/..\\bob` }), 'bad_request', /backslash/],
    ['a target over the limit', req({ url: `http://${HOST}/${'a'.repeat(MAX_TARGET_BYTES)}` }), 'uri_too_long', /longer than 8192/],
    ['too many header fields', req({ headers: withHost(...Array.from({ length: MAX_HEADER_FIELDS }, (_, i): [string, string] => [`x-h${i}`, 'v'])) }), 'headers_too_large', /more than 100/],
    ['header fields over the byte limit', req({ headers: withHost(['x-big', 'a'.repeat(MAX_HEADER_BYTES)]) }), 'headers_too_large', /larger than 16384/],
    ['duplicate Content-Length (joined as "4, 4" by Bun and Deno)', req({ method: 'POST', headers: withHost(['content-length', '4'], ['content-length', '4']) }), 'bad_request', /Content-Length/],
    ['a signed Content-Length', req({ method: 'POST', headers: withHost(['content-length', '+4']) }), 'bad_request', /Content-Length/],
    ['Content-Length with Transfer-Encoding', req({ method: 'POST', headers: withHost(['content-length', '4'], ['transfer-encoding', 'chunked']) }), 'bad_request', /together/],
    ['Transfer-Encoding gzip, chunked (Deno and Node accept it)', req({ method: 'POST', headers: withHost(['transfer-encoding', 'gzip, chunked']) }), 'bad_request', /only Transfer-Encoding/],
    ['a duplicate Transfer-Encoding', req({ method: 'POST', headers: withHost(['transfer-encoding', 'chunked'], ['transfer-encoding', 'chunked']) }), 'bad_request', /only Transfer-Encoding/],
  ])('refuses %s', (_name, input, code, message) => {
    const refusal = checkRequest(input)
    expect(refusal?.code).toBe(code as never)
    expect(refusal?.message).toMatch(message)
  })

  test.each([['CR LF', 'a\r\nset-cookie: x=1'], ['NUL', 'a\0b'], ['DEL (Bun lets it through)', 'a\x7fb'], ['a vertical tab', 'a\vb'], ['U+010D (latin1 would write its low byte, a CR)', 'a\u010db']])(
    'refuses a header value with %s, should a runtime ever let one through',
    (_name, value) => {
      // Headers itself refuses these characters, so hand the guard a Headers-shaped object that does not.
      const fields = [['host', HOST], ['x-a', value]]
      const headers = { get: (n: string) => (n === 'host' ? HOST : null), has: () => false, forEach: (f: (v: string, k: string) => void) => fields.forEach(([k, v]) => f(v!, k!)) }
      expect(checkRequest({ method: 'GET', url: `http://${HOST}/x`, headers: headers as unknown as Headers })?.message).toMatch(/control character/)
    },
  )

  test('latin1 bytes (obs-text) and tabs in a value are allowed (RFC 9110 §5.5)', () => {
    expect(checkRequest(req({ headers: withHost(['x-a', 'caf\u00e9\tau lait']) }))).toBeUndefined()
  })
})
