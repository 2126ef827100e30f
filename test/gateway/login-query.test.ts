import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { loginQuery } from '../../src/gateway/login-query.ts'

describe('loginQuery()', () => {
  test.each([
    ['?burrow_token=T', ['T'], ''],
    ['burrow_token=T', ['T'], ''],
    ['?a=1&burrow_token=T&b=2', ['T'], '?a=1&b=2'],
    ['?burrow_token=T&a=1', ['T'], '?a=1'],
    ['?a=1&burrow_token=T', ['T'], '?a=1'],
    ['?burrow_token=T&burrow_token=T', ['T', 'T'], ''],
    ['?burrow_token=T&x=1&burrow_token=U', ['T', 'U'], '?x=1'],
    ['?burrow_token=', [''], ''],
    ['?burrow_token', [''], ''],
    ['?burrow%5Ftoken=T', ['T'], ''],
    ['?burrow%5ftoken=T&a=1', ['T'], '?a=1'],
    ['?%62urrow_toke%6E=T', ['T'], ''],
    ['?burrow_token=a%2Eb', ['a.b'], ''],
    ['?burrow_token=a+b', ['a b'], ''],
    // other parameters come out exactly as sent: order, encodings, empty pieces, odd bytes
    ['?a=%20&burrow_token=T&b=%2f&c', ['T'], '?a=%20&b=%2f&c'],
    ['?a=1&&burrow_token=T&', ['T'], '?a=1&&'],
    ['?&burrow_token=T', ['T'], ''],
    ['?x=caf\u00e9&burrow_token=T&y=%zz', ['T'], '?x=caf\u00e9&y=%zz'],
    ['?q=burrow_token=x&burrow_token=T', ['T'], '?q=burrow_token=x'],
  ])('%j → values %j, rest %j', (search, values, rest) => {
    expect(loginQuery(search)).toEqual({ present: true, values, rest })
  })

  test.each([[''], ['?'], ['?a=1'], ['?burrow_tokens=T'], ['?Burrow_Token=T'], ['?xburrow_token=T'], ['?q=burrow_token'], ['?burrow%5Gtoken=T'], ['?burrow_token%00=T']])(
    '%j has no login parameter',
    (search) => {
      expect(loginQuery(search)).toEqual({ present: false })
    },
  )

  // Byte for byte: every other parameter, in order, whatever its bytes.
  test('the rest is exactly the other parameters, in order', () => {
    const piece = fc.string({ unit: fc.nat({ max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 12 }).filter((s) => !s.includes('&') && loginQuery(s).present === false)
    const token = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/)
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), token, (others, at, tok) => {
        const params = [...others]
        for (const i of at) params.splice(i % (params.length + 1), 0, `burrow_token=${tok}`)
        const r = loginQuery('?' + params.join('&'))
        expect(r.present).toBe(true)
        if (!r.present) return
        expect(r.values).toEqual(at.map(() => tok))
        const joined = others.join('&')
        expect(r.rest).toBe(joined === '' ? '' : '?' + joined)
      }),
      { numRuns: 1000 },
    )
  })

  // The security property: whatever the query, the service's own query parser finds no
  // burrow_token in what is left.
  test('URLSearchParams finds no burrow_token in what is left', () => {
    // Names that are mostly burrow_token, each character spelled plainly or as an escape (either
    // case), now and then with one character changed, next to arbitrary ASCII names.
    const spelled = (c: string) => {
      const hex = c.charCodeAt(0).toString(16)
      return fc.constantFrom(c, '%' + hex.toUpperCase(), '%' + hex.toLowerCase())
    }
    const nearName = fc
      .tuple(fc.tuple(...[...'burrow_token'].map(spelled)), fc.option(fc.tuple(fc.nat({ max: 11 }), fc.constantFrom('', 'x', '+', '%', '%5G', '_'))))
      .map(([chars, change]) => {
        const out = [...chars]
        if (change !== null) out[change[0]] = change[1]
        return out.join('')
      })
    const name = fc.oneof(nearName, fc.string({ unit: fc.nat({ max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 8 }))
    const param = fc.tuple(name, fc.option(fc.string({ maxLength: 4 }))).map(([n, value]) => n + (value === null ? '' : '=' + value))
    fc.assert(
      fc.property(fc.array(param, { maxLength: 5 }), (params) => {
        const query = '?' + params.join('&')
        const r = loginQuery(query)
        const left = r.present ? r.rest : query
        expect(new URLSearchParams(left).has('burrow_token')).toBe(false)
      }),
      { numRuns: 2000 },
    )
  })
})
