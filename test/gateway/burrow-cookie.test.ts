import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parse } from 'hono/utils/cookie'
import { BURROW_COOKIE, BURROW_HOST_COOKIE, burrowCookieName, readCookie, setsBurrowCookie, withoutBurrowCookies } from '../../src/gateway/burrow-cookie.ts'

describe('burrowCookieName()', () => {
  test.each([
    ['path', false, BURROW_COOKIE],
    ['path', true, BURROW_COOKIE],
    ['host', false, BURROW_COOKIE],
    ['host', true, BURROW_HOST_COOKIE],
  ] as const)('%s routing, secure %p → %s', (routing, secure, name) => {
    expect(burrowCookieName({ routing, secure })).toBe(name)
  })
})

describe('readCookie()', () => {
  test.each([
    [null, []],
    ['', []],
    ['__burrow_token=T', ['T']],
    ['a=1; __burrow_token=T; b=2', ['T']],
    ['a=1;__burrow_token = T ;b=2', ['T']],
    ['__burrow_token="T"', ['T']],
    ['__burrow_token=T1; __burrow_token=T2', ['T1', 'T2']],
    ['x__burrow_token=T; __burrow_tokenx=U', []],
    ['__burrow_token', []],
    ['a=__burrow_token=T', []],
  ])('%j → %j', (header, values) => {
    expect(readCookie(header, BURROW_COOKIE)).toEqual(values)
  })
})

describe('withoutBurrowCookies()', () => {
  test.each([
    ['__burrow_token=T', undefined],
    ['__Host-burrow_token=T', undefined],
    ['__burrow_token=T; __Host-burrow_token=U', undefined],
    ['__burrow_token=T;', undefined],
    ['a=1; __burrow_token=T', 'a=1'],
    ['__burrow_token=T; a=1', 'a=1'],
    ['a=1; __burrow_token=T; b=2', 'a=1; b=2'],
    ['a=1;__burrow_token=T;b=2', 'a=1;b=2'],
    ['__burrow_token=T;  a=1 ;b="x y"', 'a=1 ;b="x y"'],
    ['a=caf\u00e9; __burrow_token=T; b=\u00ff', 'a=caf\u00e9; b=\u00ff'],
  ])('%j → %j', (header, expected) => {
    expect(withoutBurrowCookies(header)).toBe(expected)
  })

  test.each([['a=1; b=2'], ['__BURROW_TOKEN=T'], ['a=__burrow_token=T'], ['__burrow_token'], ['']])('leaves %j alone (same string)', (header) => {
    expect(withoutBurrowCookies(header)).toBe(header)
  })

  // Apps' cookies must come through byte for byte, and ours never; a cookie parser (hono's) reads
  // the result as the app's cookies alone.
  test('keeps every other cookie byte for byte, whatever sits around ours', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_!#$%&'*+.^`|~-]{1,8}$/).filter((n) => n !== BURROW_COOKIE && n !== BURROW_HOST_COOKIE)
    const value = fc.stringMatching(/^[A-Za-z0-9!#$%&'()*+./:<=>?@[\]^_`{|}~-]{0,8}$/)
    const appPair = fc.tuple(name, value).map(([n, v]) => `${n}=${v}`)
    const ours = fc.constantFrom(`${BURROW_COOKIE}=T`, `${BURROW_HOST_COOKIE}=U`, ` ${BURROW_COOKIE}=x.y.z `)
    fc.assert(
      fc.property(fc.array(fc.oneof(appPair, ours), { minLength: 1, maxLength: 8 }), (pairs) => {
        const header = pairs.join('; ')
        const apps = pairs.filter((p) => !p.includes('burrow_token'))
        const out = withoutBurrowCookies(header)
        if (apps.length === 0) return expect(out).toBeUndefined()
        expect(out).toBe(apps.join('; '))
        const parsed = parse(out!)
        expect(Object.keys(parsed).some((k) => k.includes('burrow_token'))).toBe(false)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('setsBurrowCookie()', () => {
  test.each([
    ['__burrow_token=x; Path=/', true],
    [' __Host-burrow_token=x', true],
    ['__burrow_token=', true],
    ['sid=__burrow_token; Path=/', false],
    ['a=1; __burrow_token=x', false],
    ['__BURROW_TOKEN=x', false],
    ['', false],
  ])('%j → %p', (value, expected) => {
    expect(setsBurrowCookie(value)).toBe(expected)
  })
})
