/**
 * A 429's or 503's Retry-After (RFC 9110 §10.2.3) in ms from `now`: delay-seconds (`"3"`) or an
 * HTTP-date. Undefined when absent or unreadable; a date in the past gives 0.
 * `retryAfterMs('3', 0)` → 3000.
 */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return undefined
  const text = v.trim()
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000
  // An HTTP-date names its day and month (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse alone would take '-1'.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * The pause an agent takes when told Retry-After: at least what it was told, plus a random part
 * of up to a second (or of the pause, if shorter), so agents refused together do not all return
 * in the same instant. `waitAsTold(1000, () => 0.5)` → 1500.
 */
export function waitAsTold(toldMs: number, random: () => number = Math.random): number {
  return toldMs + Math.floor(random() * Math.min(Math.max(toldMs, 100), 1000))
}
