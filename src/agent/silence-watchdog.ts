/** A running watchdog: call `alive()` on every sign of life, `stop()` when the connection ends. */
export interface SilenceWatchdog {
  alive(): void
  stop(): void
}

/**
 * Call `onSilent` once nothing was heard for `silentMs`. Why the agent needs this besides ssh2's own
 * keep-alive: the ssh2 Client only counts answers to its own pings and gives up after
 * keepaliveCountMax + 1 intervals, and it does not see a gateway that answers nothing at all
 * sooner. Both ends ping every interval, so a live link carries bytes at least that often.
 * One timer, re-armed for the remaining time when it fires early: no per-frame timer work.
 * Example: `const dog = watchSilence(3 * interval, () => teardown()); ws.on('message', dog.alive)`.
 */
export function watchSilence(silentMs: number, onSilent: (silentForMs: number) => void, now: () => number = Date.now): SilenceWatchdog {
  let last = now()
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const check = () => {
    if (stopped) return
    const silentFor = now() - last
    if (silentFor >= silentMs) {
      stopped = true
      onSilent(silentFor)
      return
    }
    timer = setTimeout(check, silentMs - silentFor)
  }
  timer = setTimeout(check, silentMs)
  return {
    alive() {
      last = now()
    },
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
