import { describe, expect, test } from 'bun:test'
import { watchSilence, type Clock } from '../../src/agent/silence-watchdog.ts'

/** A clock the test moves by hand: `advance(ms)` runs the timers that fall due, in order. No real timers. */
function manualClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = 0
  let timers: { at: number; fn: () => void; id: number }[] = []
  let seq = 0
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq
      timers.push({ at: now + ms, fn, id })
      return id
    },
    clearTimeout(id) {
      timers = timers.filter((t) => t.id !== id)
    },
    advance(ms) {
      const until = now + ms
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0]
        if (due === undefined) break
        timers = timers.filter((t) => t !== due)
        now = due.at
        due.fn()
      }
      now = until
    },
    pending: () => timers.length,
  }
}

describe('watchSilence()', () => {
  test('fires once when nothing was heard for silentMs, with how long it was', () => {
    const clock = manualClock()
    const fired: number[] = []
    watchSilence(20, (silentFor) => fired.push(silentFor), clock)
    clock.advance(19)
    expect(fired).toEqual([])
    clock.advance(1)
    expect(fired).toEqual([20])
    clock.advance(1_000)
    expect(fired).toEqual([20])
    expect(clock.pending()).toBe(0)
  })

  test('alive() postpones it: silence is counted from the last sign of life', () => {
    const clock = manualClock()
    const fired: number[] = []
    const dog = watchSilence(20, (silentFor) => fired.push(silentFor), clock)
    for (let i = 0; i < 10; i++) {
      clock.advance(15)
      dog.alive()
    }
    expect(fired).toEqual([])
    clock.advance(19)
    expect(fired).toEqual([])
    clock.advance(1)
    expect(fired).toEqual([20])
  })

  test('stop() cancels it and leaves no timer behind', () => {
    const clock = manualClock()
    const fired: number[] = []
    const dog = watchSilence(10, (silentFor) => fired.push(silentFor), clock)
    dog.stop()
    clock.advance(100)
    expect(fired).toEqual([])
    expect(clock.pending()).toBe(0)
  })
})
