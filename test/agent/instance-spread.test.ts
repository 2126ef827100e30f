import { describe, expect, test } from 'bun:test'
import { FAILED_FOR_MS, InstanceSpread } from '../../src/agent/instance-spread.ts'

const A = 'ws://a/tunnel'
const B = 'ws://b/tunnel'
const C = 'ws://c/tunnel'

describe('InstanceSpread', () => {
  test('connections start on different URLs, in rotation from the slot index', () => {
    const s = new InstanceSpread([A, B, C])
    expect([s.pick(0), s.pick(1), s.pick(2)]).toEqual([A, B, C])
  })

  test('a lost connection reconnects to an instance no other connection is on', () => {
    let now = 0
    const s = new InstanceSpread([A, B, C], () => now)
    s.pick(0)
    s.reached(0, A, 'gw-a')
    s.pick(1)
    s.reached(1, B, 'gw-b')
    now = 1000
    s.ended(0, A)
    expect(s.pick(0)).toBe(C)
  })

  test('with two instances and one lost, it doubles up on the live one rather than redial the lost one at once', () => {
    let now = 0
    const s = new InstanceSpread([A, B], () => now)
    s.pick(0)
    s.pick(1)
    s.ended(0, A)
    expect(s.pick(0)).toBe(B)
    // Once the failure is old, the lost instance is tried again first.
    s.ended(0, B)
    now = FAILED_FOR_MS + 1
    expect(s.pick(0)).toBe(A)
  })

  test('two URLs that reached the same instance count as one: the next connection goes to a third', () => {
    const s = new InstanceSpread([A, B, C])
    s.pick(0)
    s.reached(0, A, 'gw-1')
    // URL B reached gw-1 too, earlier (a name and its address, say), and its connection ended.
    s.pick(1)
    s.reached(1, B, 'gw-1')
    s.ended(1, B)
    expect(s.pick(1)).toBe(C)
  })

  test('one URL (a load balancer) is always dialed', () => {
    const s = new InstanceSpread([A])
    s.pick(0)
    s.ended(0, A)
    expect([s.pick(0), s.pick(1)]).toEqual([A, A])
  })
})
