import { CLOCK_TOLERANCE_S } from '../auth/tokens.ts'

// setTimeout holds at most 2^31-1 ms (~24.8 days); a 30-day token would fire at once. Longer waits
// are taken in steps.
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * When a connection authenticated by a token with `exp` (seconds) must end, in ms: the moment the
 * gateway would refuse that token for a new connection (exp plus the clock tolerance), so an
 * agent is never closed only to be let straight back in. Undefined without `exp`.
 */
export function connectionEndsAt(exp: number | undefined): number | undefined {
  return exp === undefined ? undefined : (exp + CLOCK_TOLERANCE_S) * 1000
}

/**
 * Run `fn` at `at` (ms since the epoch), however far ahead; returns a cancel function. One timer
 * per connection, cleared when the connection closes.
 */
export function atTime(at: number, fn: () => void, now: () => number = Date.now): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    const wait = at - now()
    if (wait <= 0) return fn()
    timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS))
    ;(timer as { unref?: () => void }).unref?.()
  }
  arm()
  return () => clearTimeout(timer)
}
