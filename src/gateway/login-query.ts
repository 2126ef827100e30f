/**
 * The `burrow_token` query parameter a browser login link carries: finding it, and the query
 * without it. The query is handled as the raw string the consumer sent: parameters are split on
 * `&` (as WHATWG URLSearchParams and Node's querystring split them), and every other parameter is
 * kept byte for byte, in order, percent-encoding untouched.
 *
 * A name counts as `burrow_token` once percent-decoded (`burrow%5Ftoken`, `%62urrow_token`):
 * the local service's query parser would decode it too, and then it would hold our token. So
 * encoded spellings are ours as well, and are taken out like the plain one.
 */

/** The query parameter of a browser login link. */
export const LOGIN_PARAM = 'burrow_token'

/** loginQuery()'s answer: whether the query holds `burrow_token`, its values, and the query without it. */
export type LoginQuery =
  | { readonly present: false }
  | {
      readonly present: true
      /** Every value given for the parameter, percent-decoded (`+` read as a space), in order. */
      readonly values: readonly string[]
      /** The query without the parameter: `''` when nothing is left, else `?` and the rest. */
      readonly rest: string
    }

/**
 * Find `burrow_token` in `search` (a URL's query as sent: `''`, `?`, or `?a=1&burrow_token=x`;
 * the leading `?` may be omitted). Pure; never throws.
 * Example: `loginQuery('?a=1&burrow_token=T&b=%20')` → `{present: true, values: ['T'], rest: '?a=1&b=%20'}`.
 */
export function loginQuery(search: string): LoginQuery {
  const query = search.startsWith('?') ? search.slice(1) : search
  // Cheap exit for the common case: without a `%`, only the literal name can decode to ours.
  if (!query.includes('%') && !query.includes(LOGIN_PARAM)) return { present: false }
  const kept: string[] = []
  const values: string[] = []
  for (const param of query.split('&')) {
    const eq = param.indexOf('=')
    const name = eq < 0 ? param : param.slice(0, eq)
    if (formDecode(name) === LOGIN_PARAM) values.push(eq < 0 ? '' : formDecode(param.slice(eq + 1)))
    else kept.push(param)
  }
  if (values.length === 0) return { present: false }
  const rest = kept.join('&')
  return { present: true, values, rest: rest === '' ? '' : '?' + rest }
}

// application/x-www-form-urlencoded decoding, bytewise: `+` is a space and each valid `%XX` is one
// byte (as a U+0000–U+00FF char). An invalid escape stays as it is, as URLSearchParams leaves it.
// Bytes, not UTF-8: the parameter name and a token are ASCII, so a non-ASCII byte never matches
// either, and decoding cannot fail.
function formDecode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s
  return s.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}
