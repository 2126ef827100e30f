import { describe, expect, test } from 'bun:test'
import { backoffDelay } from '../../src/agent/backoff.ts'

describe('backoffDelay()', () => {
  test('stays in the upper half of each step, so repeated refusals always wait longer', () => {
    // random() at its extremes: 0 and just under 1.
    const low = (attempt: number) => backoffDelay(attempt, () => 0)
    const high = (attempt: number) => backoffDelay(attempt, () => 0.999999)
    expect([0, 1, 2, 3, 4, 5, 6].map(low)).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000])
    expect([0, 1, 2, 3, 4, 5, 6].map(high)).toEqual([999, 1999, 3999, 7999, 15_999, 29_999, 29_999])
  })

  test('never comes back near 0 ms, whatever the random draw (no tight loop)', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const r of [0, 0.001, 0.5, 0.999]) expect(backoffDelay(attempt, () => r)).toBeGreaterThanOrEqual(500)
    }
  })
})
