/** A running watchdog: call `alive()` on every sign of life, `stop()` when the connection ends. */
export interface SilenceWatchdog {
  alive(): void
  stop(): void
}

/** Time as the watchdog reads and schedules it: the real one, or a test's. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(timer: unknown): void
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
}

/**
 * Call `onSilent` once nothing was heard for `silentMs`. Why the agent needs this besides ssh2's own
 * keep-alive: the ssh2 Client only counts answers to its own pings and gives up after
 * keepaliveCountMax + 1 intervals, and it does not see a gateway that answers nothing at all
 * sooner. Both ends ping every interval, so a live link carries bytes at least that often.
 * One timer, re-armed for the remaining time when it fires early: no per-frame timer work.
 * Example: `const dog = watchSilence(3 * interval, () => teardown()); ws.on('message', dog.alive)`.
 */
export function watchSilence(silentMs: number, onSilent: (silentForMs: number) => void, clock: Clock = REAL_CLOCK): SilenceWatchdog {
  let last = clock.now()
  let timer: unknown
  let stopped = false
  const check = () => {
    if (stopped) return
    const silentFor = clock.now() - last
    if (silentFor >= silentMs) {
      stopped = true
      onSilent(silentFor)
      return
    }
    timer = clock.setTimeout(check, silentMs - silentFor)
  }
  timer = clock.setTimeout(check, silentMs)
  return {
    alive() {
      last = clock.now()
    },
    stop() {
      stopped = true
      clock.clearTimeout(timer)
    },
  }
}
