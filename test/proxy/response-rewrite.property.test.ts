import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { removeDotSegments } from '../../src/proxy/dot-segments.ts'
import { rewriteLocation, rewriteSetCookie, type LocationContext } from '../../src/proxy/response-rewrite.ts'

const RUNS = { numRuns: 1000 }
const GW = 'https://gw.example.com'

// Header values are latin1 byte strings: any char U+0000–U+00FF.
const latin1 = fc.string({ unit: fc.nat({ max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 })
// Characters that matter to URL parsing, weighted in, so that paths with dots, slashes,
// backslashes, escapes, tabs and query marks are common rather than rare.
const urlish = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('/', '.', '\\', '%2e', '%2E', '..', '?', '#', '\t', '\n', '\u0000', ' ', '%', ':', '@', 'a', 't', 'alice', '\u00e9') },
    { weight: 1, arbitrary: fc.nat({ max: 0xff }).map((c) => String.fromCharCode(c)) },
  ),
  maxLength: 24,
})
const prefix = fc.constantFrom('/t/alice/', '/burrow/t/alice/', '/a/b/c/t/x1/')
const ctxArb: fc.Arbitrary<LocationContext> = fc.record({
  prefix,
  publicOrigin: fc.constantFrom(GW, 'http://gw.example.com:8080', 'http://[::1]:8080'),
  upstreamHost: fc.constantFrom('localhost:3000', '127.0.0.1:11434', undefined),
})
// Anything a service might put in Location: paths, absolute URLs of its own host, of the
// gateway, of others, and garbage.
const location = fc.oneof(
  urlish.map((s) => '/' + s),
  fc.tuple(fc.constantFrom('http://', 'https://', '//', 'HTTP://', '/\\'), fc.constantFrom('localhost:3000', '127.0.0.1:11434', 'gw.example.com', 'example.org', 'localhost', 'u@localhost:3000'), urlish).map(([a, b, c]) => a + b + c),
  urlish,
  latin1,
)

describe('rewriteLocation() properties', () => {
  test('never throws and is idempotent: a rewritten value is left as it is', () => {
    fc.assert(
      fc.property(location, ctxArb, (v, ctx) => {
        const once = rewriteLocation(v, ctx)
        expect(rewriteLocation(once, ctx)).toBe(once)
      }),
      RUNS,
    )
  })

  test('a path-absolute value resolves, in a browser\'s URL parser, under the prefix on the gateway', () => {
    const pathAbsolute = fc.oneof(urlish, latin1).map((s) => '/' + s).filter((s) => s[1] !== '/' && s[1] !== '\\')
    fc.assert(
      fc.property(pathAbsolute, ctxArb, (v, ctx) => {
        const out = rewriteLocation(v, ctx)
        const resolved = new URL(out, `${GW}/somewhere/else`)
        expect(resolved.origin).toBe(GW)
        const path = resolved.pathname
        expect(path.startsWith(ctx.prefix) || path === ctx.prefix.slice(0, -1)).toBe(true)
      }),
      // More runs here: the inputs that escape a careless prefixing (a `..` hidden by trailing
      // controls, tabs or escapes) are a small corner of the space.
      { numRuns: 5000 },
    )
  })

  test('a URL on any other host is never touched', () => {
    const foreign = fc.tuple(
      fc.constantFrom('http://', 'https://', '//'),
      fc.constantFrom('example.org', 'localhost:3001', 'evil.com', 'gw.example.com.evil.com', 'localhost:3000@evil.com', '[::2]:3000'),
      urlish,
    )
    fc.assert(
      fc.property(foreign, ctxArb, ([scheme, host, rest], ctx) => {
        const v = scheme + host + (rest.startsWith('/') ? rest : '/' + rest)
        expect(rewriteLocation(v, ctx)).toBe(v)
      }),
      RUNS,
    )
  })

  test('every byte outside the rewritten path survives: the query and fragment come out as they went in', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/([a-z0-9][a-z0-9/]*)?$/), latin1, prefix, (path, after, p) => {
        const tail = '?' + after
        const out = rewriteLocation(path + tail, { prefix: p, publicOrigin: GW, upstreamHost: undefined })
        expect(out.endsWith(tail)).toBe(true)
        expect(out).toBe(p + path.slice(1) + tail)
      }),
      RUNS,
    )
  })
})

describe('removeDotSegments() agrees with the WHATWG URL parser', () => {
  test('on ASCII paths with dots, escapes, backslashes and tabs', () => {
    const asciiPath = fc.string({ unit: fc.constantFrom('/', '.', '\\', '%2e', '%2E', 'a', 'b', '\t', '..', '%'), maxLength: 20 }).map((s) => '/' + s)
    fc.assert(
      fc.property(asciiPath, (p) => {
        // Both through the same parser, so both sides are percent-encoded the same way; glued to
        // an authority, so that `//x` stays a path rather than becoming a host.
        const ours = new URL('http://h' + removeDotSegments(p)).pathname
        const theirs = new URL('http://h' + p).pathname
        expect(ours).toBe(theirs)
      }),
      RUNS,
    )
  })
})

describe('rewriteSetCookie() properties', () => {
  const attr = fc.oneof(
    fc.constantFrom('HttpOnly', 'Secure', 'SameSite=Lax', 'Max-Age=60', 'Domain=localhost', ' Path=/', 'path=/x/y', 'PATH = /a ', 'Path=rel', 'Path='),
    latin1.filter((s) => !s.includes(';')),
  )
  const setCookie = fc.tuple(latin1.filter((s) => !s.includes(';')), fc.array(attr, { maxLength: 5 })).map(([pair, attrs]) => [pair, ...attrs].join(';'))

  test('never throws, is idempotent, keeps the pair and every non-Path attribute byte for byte', () => {
    fc.assert(
      fc.property(setCookie, prefix, (v, p) => {
        const out = rewriteSetCookie(v, p)
        expect(rewriteSetCookie(out, p)).toBe(out)
        const before = v.split(';')
        const after = out.split(';')
        expect(after.length).toBe(before.length)
        expect(after[0]).toBe(before[0]!)
        for (let i = 1; i < before.length; i++) {
          const isPath = /^[ \t]*path[ \t]*=/i.test(before[i]!)
          if (!isPath) expect(after[i]).toBe(before[i]!)
          else {
            const value = after[i]!.slice(after[i]!.indexOf('=') + 1).trim()
            // Rewritten paths are under the prefix; relative or empty ones stay as they were.
            if (value.startsWith('/')) expect(value.startsWith(p) || value === p.slice(0, -1)).toBe(true)
            else expect(after[i]).toBe(before[i]!)
          }
        }
      }),
      RUNS,
    )
  })
})
