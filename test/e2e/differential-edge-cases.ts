/**
 * Differential cases against the edge origin (test/fixtures/edge-origin.ts): the shapes httpbin
 * cannot produce. The hang endpoint is not a case (a direct request would wait forever); the
 * test file checks it on its own.
 */
import { GET_BODY_LIMIT, INTERIM_LIMIT, TRAILERS_LIMIT } from '../support/differential-limits.ts'
import type { DiffCase } from '../support/differential-run.ts'
import { edgeEcho, location, setCookiePath, websocketAccept } from '../support/differential-rules.ts'

const edge = (target: string, more: Omit<DiffCase, 'origin' | 'target'> = {}): DiffCase => ({ origin: 'edge', target, ...more })

// The edge echo shows the request head as the service got it, Host included (the origin's own
// host:port by default).
const echo = { rules: [edgeEcho] } as const

export const EDGE_CASES: readonly DiffCase[] = [
  // Last: on main these bytes bring a Deno gateway down (a panic in its HTTP writer).
  edge('/non-ascii', { phase: 'last', about: 'UTF-8 bytes in x-t and a content-disposition filename, 0xE9 in x-latin1' }),
  edge('/slow-head?ms=1500', { about: 'the head comes 1.5 s late' }),
  edge('/trailers', { onRuntime: TRAILERS_LIMIT, about: 'chunked with an x-checksum trailer' }),
  edge('/early-hints', { onRuntime: INTERIM_LIMIT, about: '103 Early Hints before the 200' }),
  edge('/not-modified', { about: '304 without content-type or body' }),
  edge('/no-content', { about: '204 without content-type or body' }),
  edge('/untyped', { about: 'a body without content-type, head and body in one write' }),
  edge('/untyped?split=50', { about: 'a body without content-type, the body 50 ms after the head' }),
  edge('/redirect?to=/landing', { rules: [location] }),
  edge('/redirect?to=self/landing', { rules: [location], about: 'absolute Location to the origin itself' }),
  edge('/redirect?to=landing', { rules: [location], about: 'a relative Location stays as it is' }),
  edge('/redirect?to=http://example.invalid/x', { rules: [location], about: "another host's Location stays as it is" }),
  edge('/cookies', { rules: [setCookiePath], about: 'Path=/, path=/app and no Path' }),
  edge('/echo-head?q=%C3%A9&q=2', {
    credential: 'burrow-token',
    headers: [
      ['Authorization', 'Basic dTpw'],
      ['Cookie', 'a=1; b=2'],
      ['X-Dup', 'one'],
      ['X-Dup', 'two'],
      ['Accept', 'text/html'],
    ],
    ...echo,
    about: 'what the service receives: its own Authorization and Cookie, repeated fields',
  }),
  edge('/echo-head', { method: 'POST', headers: [['Content-Type', 'text/plain']], body: 'posted body', ...echo, about: 'a POST as received' }),
  edge('/echo-body', { method: 'GET', headers: [['Content-Type', 'text/plain']], body: 'a GET body, echoed', onRuntime: GET_BODY_LIMIT, about: 'GET with a body' }),
  edge('/events?n=4&every=250', { gapMs: 100, about: 'chunked events 250 ms apart: as many bursts as sent' }),
  edge('/ws', {
    websocket: { protocols: ['chat.v1', 'chat.v2'], send: 'ping', expect: 2 },
    rules: [websocketAccept, setCookiePath],
    about: 'second subprotocol chosen, set-cookie and x-edge-ws on the 101, greeting then echo',
  }),
  edge('/ws-refused', { websocket: { protocols: [], expect: 0 }, about: 'the service refuses the upgrade: 401, WWW-Authenticate, body' }),
]
