/**
 * Request ids: what a consumer may send as `X-Request-Id`, and how the agent finds the id the
 * gateway put in a request head it forwards. One home for the syntax both ends rely on.
 */

/** The field that carries a request's id to the local service and back to the consumer. */
export const REQUEST_ID_FIELD = 'x-request-id'

/** Longest id honoured; longer ones are replaced (a log field, not a payload). */
export const REQUEST_ID_MAX = 128

/**
 * A consumer's id is honoured when it is 1–128 of these characters: what UUIDs, ULIDs, base64 and
 * the common tracing ids (`Root=1-…` aside) are made of. Nothing that could break a log line, a
 * header or a JSON string (no spaces, quotes, control bytes, commas or semicolons).
 */
export const REQUEST_ID = /^[A-Za-z0-9._~:+/=@-]{1,128}$/

/**
 * The gateway writes the id as `x-request-id: <id>\r\n` in the head it sends down the channel
 * (lower-case name, proxy/request-writer.ts); the agent finds it there without parsing HTTP.
 * Returns undefined when `head` (the first bytes of a request, latin1) carries none.
 * Example: `peekRequestId('GET / HTTP/1.1\r\nx-request-id: abc\r\n\r\n')` → `'abc'`.
 */
export function peekRequestId(head: string): string | undefined {
  const end = head.indexOf('\r\n\r\n')
  const at = head.indexOf('\r\nx-request-id: ')
  if (at < 0 || (end >= 0 && at > end)) return undefined
  const from = at + 16
  const to = head.indexOf('\r\n', from)
  const id = head.slice(from, to < 0 ? undefined : to)
  return REQUEST_ID.test(id) ? id : undefined
}
