import { describe, expect, test } from 'bun:test'
import { watchSilence } from '../../src/agent/silence-watchdog.ts'

/** Wait (bounded) until `done()`; the watchdog's timers are real, its clock is the test's. */
async function until(done: () => boolean, ms = 2_000): Promise<void> {
  for (let waited = 0; !done() && waited < ms; waited += 5) await Bun.sleep(5)
}

describe('watchSilence()', () => {
  test('fires once when nothing was heard for silentMs, with how long it was', async () => {
    let clock = 0
    const fired: number[] = []
    const dog = watchSilence(20, (silentFor) => fired.push(silentFor), () => clock)
    clock = 25
    await until(() => fired.length > 0)
    expect(fired).toEqual([25])
    await Bun.sleep(60)
    expect(fired).toEqual([25])
    dog.stop()
  })

  test('alive() postpones it: a clock that never passes silentMs since the last sign of life never fires', async () => {
    let clock = 0
    const fired: number[] = []
    const dog = watchSilence(20, (silentFor) => fired.push(silentFor), () => clock)
    for (let i = 0; i < 10; i++) {
      clock += 15
      dog.alive()
      await Bun.sleep(10)
    }
    expect(fired).toEqual([])
    clock += 20
    await until(() => fired.length > 0)
    expect(fired).toEqual([20])
  })

  test('stop() cancels it', async () => {
    let clock = 0
    const fired: number[] = []
    const dog = watchSilence(10, (silentFor) => fired.push(silentFor), () => clock)
    dog.stop()
    clock = 100
    await Bun.sleep(40)
    expect(fired).toEqual([])
  })
})
