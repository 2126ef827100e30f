import { decodeJwt } from 'jose'

/** How long before its token expires the agent warns: an hour, then five minutes. */
export const WARN_AHEAD_MS = [60 * 60_000, 5 * 60_000] as const

// setTimeout holds at most 2^31-1 ms (~24.8 days): longer waits are taken in steps.
const MAX_TIMER_MS = 2 ** 31 - 1

/** A token's `exp` in ms, read without verifying (the gateway verifies); undefined without one. */
export function tokenExpiry(token: string): number | undefined {
  try {
    const exp = decodeJwt(token).exp
    return typeof exp === 'number' ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/** `3 min`, `59 min`, `2 h 5 min`: a wait as a person reads it. */
export function humanDuration(ms: number): string {
  const min = Math.max(0, Math.round(ms / 60_000))
  if (min < 60) return `${min} min`
  return `${Math.floor(min / 60)} h${min % 60 === 0 ? '' : ` ${min % 60} min`}`
}

/**
 * Warn ahead of a token's expiry: `warn(text)` once at each of WARN_AHEAD_MS before `expiresAt`
 * still in the future (one that is already closer says so at once). Returns a stop function; call
 * it and start again when the token changes (a rotated --token-file).
 */
export function warnBeforeExpiry(expiresAt: number, warn: (text: string) => void, now: () => number = Date.now): () => void {
  const timers: ReturnType<typeof setTimeout>[] = []
  const say = () => warn(`the token expires in ${humanDuration(expiresAt - now())} (${new Date(expiresAt).toISOString()}); put a new one in --token-file, or restart with one`)
  const left = expiresAt - now()
  if (left <= 0) {
    warn(`the token expired at ${new Date(expiresAt).toISOString()}; the gateway ends the connection once it stops accepting it: put a new one in --token-file, or restart with one`)
    return () => {}
  }
  // Closer than the first mark already: one warning now, then the marks still ahead.
  if (left <= WARN_AHEAD_MS[0]) say()
  for (const ahead of WARN_AHEAD_MS) {
    if (left <= ahead) continue
    const arm = (at: number) => {
      const wait = at - now()
      const t = setTimeout(() => (wait > MAX_TIMER_MS ? arm(at) : say()), Math.min(Math.max(0, wait), MAX_TIMER_MS))
      ;(t as { unref?: () => void }).unref?.()
      timers.push(t)
    }
    arm(expiresAt - ahead)
  }
  return () => timers.forEach((t) => clearTimeout(t))
}
