/**
 * Differential cases against httpbin (python3-httpbin under gunicorn): each is sent directly and
 * through the tunnel, and must come back the same, up to the rules it names.
 */
import type { DiffCase } from '../support/differential-run.ts'
import { GET_BODY_LIMIT } from '../support/differential-limits.ts'
import { cacheValidators, decoded, httpbinEcho, httpbinEchoLines, location, locationOnHostRouting, setCookiePath, uuidShape } from '../support/differential-rules.ts'

const hb = (target: string, more: Omit<DiffCase, 'origin' | 'target'> = {}): DiffCase => ({ origin: 'httpbin', target, ...more })

// Every request echo carries Host (and the url httpbin builds from it): the agent's default
// `--host-header rewrite` makes it the origin's own.
const echo = { rules: [httpbinEcho] } as const

const statuses = [200, 201, 204, 301, 302, 304, 400, 404, 418, 500, 503].map((code) =>
  // 301/302 carry `Location: /redirect/1`: a path-absolute reference, rewritten under path routing.
  hb(`/status/${code}`, code === 301 || code === 302 ? { rules: [location] } : {}),
)

const bodies = (['POST', 'PUT', 'PATCH', 'DELETE'] as const).map((method) =>
  hb('/anything/x?q=1&q=2&u=%C3%A9', { method, headers: [['Content-Type', 'application/json']], body: `{"method":"${method}","n":[1,2]}`, ...echo }),
)

export const HTTPBIN_CASES: readonly DiffCase[] = [
  hb('/get?a=1&b=%C3%A9&empty=', echo),
  hb('/headers', { headers: [['X-Custom', 'one'], ['X-Custom', 'two'], ['Accept-Language', 'de-CH, en;q=0.5'], ['Cookie', 'c=1; d=2']], ...echo }),
  hb('/get', { method: 'HEAD', about: 'HEAD: head only, with its length' }),
  ...bodies,
  hb('/anything/form', { method: 'PUT', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'a=1&b=%C3%A9&a=2', ...echo }),
  hb('/anything/get-body', { method: 'GET', headers: [['Content-Type', 'text/plain']], body: 'a GET may carry a body', ...echo, onRuntime: GET_BODY_LIMIT, about: 'GET with a body' }),
  ...statuses,
  hb('/bytes/4096?seed=7'),
  // httpbin seeds Python's global random per request and draws from it while streaming: another
  // request seeding it meanwhile changes these bytes, so this one runs with nothing else around.
  hb('/stream-bytes/65536?chunk_size=1000&seed=3', { phase: 'quiet' }),
  hb('/stream/3', { rules: [httpbinEchoLines] }),
  hb('/drip?duration=1&numbytes=4&delay=0', { gapMs: 100, about: 'one byte every 250 ms: as many bursts as the origin sent' }),
  hb('/gzip', { rules: [decoded, httpbinEcho] }),
  hb('/deflate', { rules: [decoded, httpbinEcho] }),
  hb('/brotli', { rules: [decoded, httpbinEcho] }),
  hb('/html', { headers: [['Accept-Encoding', 'gzip, br']], about: 'the consumer accepts compression; the origin sends none, nor may the tunnel' }),
  hb('/cookies/set?a=1&b=2', { rules: [location, setCookiePath] }),
  hb('/redirect/2', { rules: [location] }),
  hb('/relative-redirect/2', { rules: [location] }),
  // The redirect page's body spells the URL built from Host too: it matches once Host is the origin's.
  hb('/absolute-redirect/2', { rules: [location], about: 'Location names the Host the app was given' }),
  // httpbin cannot send a UTF-8 value: gunicorn encodes header values as latin1 and drops the
  // connection on anything else. `é` as the single byte 0xE9 is the non-ASCII it can send.
  hb('/response-headers?x=1&x=2&x-latin1=caf%C3%A9&Cache-Control=no-store', { about: 'repeated and non-ASCII (0xE9) response fields' }),
  hb('/basic-auth/u/p', { credential: 'burrow-token', headers: [['Authorization', 'Basic dTpw']], about: "the app's own Authorization" }),
  hb('/basic-auth/u/p', { about: 'no credentials for the app: its 401 and WWW-Authenticate' }),
  hb('/etag/abc', { headers: [['If-None-Match', '"abc"']], about: 'If-None-Match → 304' }),
  hb('/etag/abc', { headers: [['If-Match', '"zzz"']], about: 'If-Match mismatch → 412' }),
  hb('/range/1024', { headers: [['Range', 'bytes=10-19']], about: 'Range → 206' }),
  hb('/cache', { rules: [cacheValidators, httpbinEcho] }),
  hb('/cache', { headers: [['If-Modified-Since', 'Sat, 01 Jan 2022 00:00:00 GMT']], about: 'If-Modified-Since → 304' }),
  hb('/encoding/utf8'),
  hb('/image/png'),
  hb('/html'),
  hb('/xml'),
  hb('/json'),
  hb('/uuid', { rules: [uuidShape] }),
  hb('/delay/1', echo),
  // Host routing: the app sees the path as sent, so nothing in its answer needs rewriting…
  hb('/get?via=host', { routing: 'host', ...echo }),
  hb('/cookies/set?a=1', { routing: 'host', about: 'Location and Set-Cookie Path stay as sent' }),
  // …except absolute URLs built from the Host it was given (its own host:port, once the agent
  // rewrites Host): the gateway points such a Location back at the public host.
  hb('/absolute-redirect/1', { routing: 'host', rules: [locationOnHostRouting] }),
]
