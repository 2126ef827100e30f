import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { applyHeaderEdits, consumerCredential, type ConsumerRequest, type CredentialDecision } from '../../src/gateway/consumer-credentials.ts'

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig-_nature'
const OTHER = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.other'

function req(over: Partial<Omit<ConsumerRequest, 'headers'>> & { headers?: Record<string, string> | [string, string][] } = {}): ConsumerRequest {
  return {
    method: over.method ?? 'GET',
    headers: new Headers(over.headers ?? {}),
    search: over.search ?? '',
    tunnel: over.tunnel ?? 'alice',
    routing: over.routing ?? 'path',
    secure: over.secure ?? true,
    isPublic: over.isPublic ?? false,
  }
}

// The forwarded headers once the decision's edits are applied, as a plain object.
function forwarded(r: ConsumerRequest, d: CredentialDecision): Record<string, string> {
  if (!('edits' in d)) throw new Error(`no edits on a ${d.kind} decision`)
  return Object.fromEntries(applyHeaderEdits(r.headers, d.edits).entries())
}

describe('consumerCredential(): where the token comes from', () => {
  test.each([
    ['Authorization: Bearer', { authorization: `Bearer ${JWT}` }, 'bearer', JWT],
    ['Authorization: bearer (scheme is case-insensitive), extra spaces', { authorization: `bearer   ${JWT}` }, 'bearer', JWT],
    ['Burrow-Token', { 'burrow-token': JWT }, 'burrow-token', JWT],
    ['Burrow-Token wins over Authorization', { 'burrow-token': JWT, authorization: `Bearer ${OTHER}` }, 'burrow-token', JWT],
    ['the login cookie', { cookie: `a=1; __burrow_token=${JWT}` }, 'cookie', JWT],
    ['the cookie wins over Authorization (the app\'s own bearer)', { cookie: `__burrow_token=${JWT}`, authorization: `Bearer ${OTHER}` }, 'cookie', JWT],
    ['Burrow-Token wins over the cookie', { 'burrow-token': JWT, cookie: `__burrow_token=${OTHER}` }, 'burrow-token', JWT],
    ['a malformed cookie is passed over for a bearer token', { cookie: '__burrow_token=a b', authorization: `Bearer ${JWT}` }, 'bearer', JWT],
    ['the first well-formed of several cookies', { cookie: `__burrow_token=; __burrow_token=${JWT}` }, 'cookie', JWT],
  ] as const)('%s', (_name, headers, source, token) => {
    const d = consumerCredential(req({ headers }))
    expect(d).toMatchObject({ kind: 'verify', source, token })
  })

  test('the cookie is read under its scope\'s name only: __Host- for host routing over https', () => {
    const both = { cookie: `__burrow_token=${OTHER}; __Host-burrow_token=${JWT}` }
    expect(consumerCredential(req({ headers: both, routing: 'host', secure: true }))).toMatchObject({ kind: 'verify', source: 'cookie', token: JWT })
    expect(consumerCredential(req({ headers: both, routing: 'host', secure: false }))).toMatchObject({ kind: 'verify', source: 'cookie', token: OTHER })
    expect(consumerCredential(req({ headers: both, routing: 'path', secure: true }))).toMatchObject({ kind: 'verify', source: 'cookie', token: OTHER })
    // A planted plain cookie does not count on https host routing (the __Host- one is the only one there).
    const planted = { cookie: `__burrow_token=${OTHER}` }
    expect(consumerCredential(req({ headers: planted, routing: 'host', secure: true }))).toMatchObject({ kind: 'refused', code: 'unauthorized' })
  })
})

describe('consumerCredential(): what is forwarded', () => {
  test('Bearer: Authorization is dropped', () => {
    const r = req({ headers: { authorization: `Bearer ${JWT}`, accept: 'x' } })
    expect(forwarded(r, consumerCredential(r))).toEqual({ accept: 'x' })
  })

  test('Burrow-Token: it is dropped, Authorization reaches the service untouched', () => {
    const r = req({ headers: { 'burrow-token': JWT, authorization: 'Basic dTpw' } })
    expect(forwarded(r, consumerCredential(r))).toEqual({ authorization: 'Basic dTpw' })
  })

  test('Burrow-Token with Authorization repeating the same token: both dropped', () => {
    const r = req({ headers: { 'burrow-token': JWT, authorization: `Bearer ${JWT}` } })
    expect(forwarded(r, consumerCredential(r))).toEqual({})
  })

  test('cookie: ours is removed, the app\'s cookies and Authorization are kept byte for byte', () => {
    const r = req({ headers: { cookie: `sid="a b"; __burrow_token=${JWT};theme=dark`, authorization: 'Bearer app-jwt' } })
    expect(forwarded(r, consumerCredential(r))).toEqual({ cookie: 'sid="a b";theme=dark', authorization: 'Bearer app-jwt' })
  })

  test('cookie alone: the Cookie field goes', () => {
    const r = req({ headers: { cookie: `__burrow_token=${JWT}` } })
    expect(forwarded(r, consumerCredential(r))).toEqual({})
  })

  test('both cookie names are stripped, whichever one authenticated', () => {
    const r = req({ routing: 'host', secure: true, headers: { cookie: `__burrow_token=x; a=1; __Host-burrow_token=${JWT}` } })
    expect(forwarded(r, consumerCredential(r))).toEqual({ cookie: 'a=1' })
  })

  test('public tunnel: nothing verified, Authorization passes, Burrow-Token and our cookie do not', () => {
    const r = req({ isPublic: true, headers: { authorization: 'Bearer junk junk', 'burrow-token': 'x, y', cookie: `__burrow_token=${JWT}; a=1` } })
    const d = consumerCredential(r)
    expect(d.kind).toBe('none')
    expect(forwarded(r, d)).toEqual({ authorization: 'Bearer junk junk', cookie: 'a=1' })
  })

  test('public tunnel without anything: forwarded as it is', () => {
    const r = req({ isPublic: true, headers: { accept: '*/*' } })
    expect(consumerCredential(r)).toEqual({ kind: 'none', edits: [] })
  })
})

describe('consumerCredential(): CORS preflights', () => {
  const preflight = { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' }

  test.each([[false], [true]])('OPTIONS with Origin and Access-Control-Request-Method goes through without a token (public %p)', (isPublic) => {
    const r = req({ method: 'OPTIONS', headers: preflight, isPublic })
    expect(consumerCredential(r)).toEqual({ kind: 'cors-preflight', edits: [] })
  })

  test.each([
    ['not OPTIONS', 'GET', preflight],
    ['no Origin', 'OPTIONS', { 'access-control-request-method': 'PUT' }],
    ['an empty Origin', 'OPTIONS', { origin: '', 'access-control-request-method': 'PUT' }],
    ['no Access-Control-Request-Method', 'OPTIONS', { origin: 'https://app.example' }],
    ['a method that is not a token', 'OPTIONS', { ...preflight, 'access-control-request-method': 'P T' }],
    ['a body (Content-Length)', 'OPTIONS', { ...preflight, 'content-length': '5' }],
    ['a body (chunked)', 'OPTIONS', { ...preflight, 'transfer-encoding': 'chunked' }],
    ['a Cookie (browsers send none on a preflight)', 'OPTIONS', { ...preflight, cookie: 'a=1' }],
    ['an Authorization', 'OPTIONS', { ...preflight, authorization: 'Basic x' }],
  ] as const)('%s: not a preflight, so a token is needed', (_name, method, headers) => {
    expect(consumerCredential(req({ method, headers }))).toMatchObject({ kind: 'refused', code: 'unauthorized' })
  })

  test('an OPTIONS preflight shape with a bearer token is an ordinary authenticated request', () => {
    expect(consumerCredential(req({ method: 'OPTIONS', headers: { ...preflight, authorization: `Bearer ${JWT}` } }))).toMatchObject({ kind: 'verify', source: 'bearer' })
  })

  test('Content-Length: 0 is no body', () => {
    expect(consumerCredential(req({ method: 'OPTIONS', headers: { ...preflight, 'content-length': '0' } })).kind).toBe('cors-preflight')
  })
})

describe('consumerCredential(): browser login links', () => {
  test.each([
    ['GET', `?burrow_token=${JWT}`],
    ['HEAD', `?a=1&burrow_token=${JWT}&b=2`],
    ['GET', `?burrow%5Ftoken=${JWT}`],
    ['GET', `?burrow_token=${JWT}&burrow_token=${JWT}`],
  ])('%s %s is a query login', (method, search) => {
    expect(consumerCredential(req({ method, search }))).toEqual({ kind: 'query-login', source: 'query-login', token: JWT })
  })

  test('a login link wins over any header, and is handled on public tunnels too (the token must not be forwarded)', () => {
    const r = req({ search: `?burrow_token=${JWT}`, isPublic: true, headers: { 'burrow-token': OTHER, authorization: `Bearer ${OTHER}` } })
    expect(consumerCredential(r)).toMatchObject({ kind: 'query-login', token: JWT })
  })

  test.each([
    ['POST', `?burrow_token=${JWT}`, 'bad_request', /only logs a browser in on GET or HEAD/],
    ['OPTIONS', `?burrow_token=${JWT}`, 'bad_request', /GET or HEAD/],
    ['GET', `?burrow_token=${JWT}&burrow_token=${OTHER}`, 'bad_request', /more than once with different values/],
    ['GET', '?burrow_token=', 'unauthorized', /empty/],
    ['GET', '?burrow_token', 'unauthorized', /empty/],
    ['GET', '?burrow_token=a+b', 'unauthorized', /not a well-formed token/],
    ['GET', '?burrow_token=%00', 'unauthorized', /not a well-formed token/],
  ])('%s %s → %s', (method, search, code, reason) => {
    const d = consumerCredential(req({ method, search }))
    expect(d).toMatchObject({ kind: 'refused', code })
    if (d.kind === 'refused') expect(d.reason).toMatch(reason)
  })
})

describe('consumerCredential(): malformed credentials are refusals', () => {
  test.each([
    ['nothing at all', {}, 'unauthorized', /a token for alice is required/],
    ['two Burrow-Token fields', [['burrow-token', JWT], ['burrow-token', OTHER]] as [string, string][], 'bad_request', /more than once/],
    ['an empty Burrow-Token', { 'burrow-token': '' }, 'unauthorized', /empty/],
    ['Burrow-Token with "Bearer "', { 'burrow-token': `Bearer ${JWT}` }, 'unauthorized', /bare token/],
    ['Burrow-Token with junk', { 'burrow-token': 'a"b' }, 'unauthorized', /not a well-formed token/],
    ['Bearer without a token', { authorization: 'Bearer' }, 'unauthorized', /empty/],
    ['Bearer with two tokens', { authorization: `Bearer ${JWT} ${OTHER}` }, 'unauthorized', /not well-formed/],
    ['Bearer sent twice', [['authorization', `Bearer ${JWT}`], ['authorization', `Bearer ${OTHER}`]] as [string, string][], 'unauthorized', /not well-formed/],
    ['Bearer with junk', { authorization: 'Bearer a"b' }, 'unauthorized', /not well-formed/],
    ['Basic on a private tunnel, with no Burrow token', { authorization: 'Basic dTpw' }, 'unauthorized', /a Basic credential.*Burrow-Token/],
    ['Bearerx (not the Bearer scheme)', { authorization: `Bearerx ${JWT}` }, 'unauthorized', /a Bearerx credential/],
    ['only a malformed login cookie', { cookie: '__burrow_token=a b' }, 'unauthorized', /login cookie is malformed/],
  ] as const)('%s', (_name, headers, code, reason) => {
    const d = consumerCredential(req({ headers }))
    expect(d).toMatchObject({ kind: 'refused', code })
    if (d.kind === 'refused') expect(d.reason).toMatch(reason)
  })

  test('no refusal message ever contains the token', () => {
    for (const headers of <Record<string, string>[]>[{ authorization: `Bearer ${JWT} x` }, { 'burrow-token': `Bearer ${JWT}` }, { authorization: `Basic ${JWT}` }]) {
      const d = consumerCredential(req({ headers }))
      expect(d.kind).toBe('refused')
      if (d.kind === 'refused') expect(d.reason).not.toContain(JWT)
    }
  })
})

describe('consumerCredential(): properties', () => {
  // Header values as runtimes hand them over: latin1 without CR, LF and NUL (the parsers refuse those).
  const value = fc.string({ unit: fc.nat({ max: 0xff }).filter((c) => c !== 0 && c !== 10 && c !== 13).map((c) => String.fromCharCode(c)), maxLength: 30 })
  const tokenish = fc.oneof(value, fc.constantFrom(JWT, OTHER, '', 'Bearer ' + JWT, `${JWT}, ${OTHER}`))
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })
  const request = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS', 'PUT'),
    search: fc.oneof(fc.constant(''), value.map((v) => '?' + v), tokenish.map((t) => `?a=1&burrow_token=${t}`)),
    routing: fc.constantFrom('path' as const, 'host' as const),
    secure: fc.boolean(),
    isPublic: fc.boolean(),
    auth: maybe(fc.oneof(tokenish.map((t) => 'Bearer ' + t), value)),
    burrow: maybe(tokenish),
    cookie: maybe(fc.oneof(value, tokenish.map((t) => `a=1; __burrow_token=${t}; __Host-burrow_token=${t}`))),
    origin: maybe(fc.constantFrom('https://app.example', '')),
    acrm: maybe(fc.constantFrom('PUT', 'P T')),
  })

  test('never throws; what is forwarded has no Burrow-Token, no login cookie, and no Authorization: Bearer with the token', () => {
    fc.assert(
      fc.property(request, (p) => {
        const headers = new Headers()
        if (p.auth !== undefined) headers.set('authorization', p.auth)
        if (p.burrow !== undefined) headers.set('burrow-token', p.burrow)
        if (p.cookie !== undefined) headers.set('cookie', p.cookie)
        if (p.origin !== undefined) headers.set('origin', p.origin)
        if (p.acrm !== undefined) headers.set('access-control-request-method', p.acrm)
        const r: ConsumerRequest = { method: p.method, headers, search: p.search, tunnel: 'alice', routing: p.routing, secure: p.secure, isPublic: p.isPublic }
        const d = consumerCredential(r)
        if (!('edits' in d)) return
        const out = applyHeaderEdits(headers, d.edits)
        expect(out.has('burrow-token')).toBe(false)
        expect(out.get('cookie') ?? '').not.toMatch(/(^|;)[ \t]*(__burrow_token|__Host-burrow_token)[ \t]*=/)
        // The token that authenticated never reaches the service as a credential (what the consumer
        // wrote into the app's own headers in other shapes is the app's business).
        if (d.kind === 'verify') expect(/^Bearer[ \t]+(\S+)[ \t]*$/i.exec(out.get('authorization') ?? '')?.[1]).not.toBe(d.token)
        // Authorization is only ever dropped, never changed, and on public tunnels never touched.
        if (out.has('authorization')) expect(out.get('authorization')).toBe(headers.get('authorization')!)
        if (p.isPublic) expect(out.get('authorization')).toBe(headers.get('authorization'))
      }),
      { numRuns: 2000 },
    )
  })
})
