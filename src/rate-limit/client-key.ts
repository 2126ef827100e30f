/**
 * The rate-limit key of a client address. IPv4 addresses are their own key (an IPv4-mapped IPv6
 * address is its IPv4 address). An IPv6 address keys by its /64: one host usually holds a whole
 * /64 and could otherwise take a fresh bucket for every request.
 * `clientKey('::ffff:203.0.113.7')` → `'203.0.113.7'`; `clientKey('2001:db8:1:2::99')` → `'2001:db8:1:2::/64'`.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped !== null) return mapped[1]!
  if (!address.includes(':')) return address
  const bare = address.replace(/%.*$/, '').toLowerCase()
  const [head = '', tail] = bare.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  const prefix = groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '') || '0')
  while (prefix.length < 4) prefix.push('0')
  return `${prefix.join(':')}::/64`
}
