/**
 * The takeover rule of admit(), stated as properties (fast-check):
 * - a newcomer retires only its own instance's connection of the same slot, or stale connections;
 * - two live agents of one user that want more than the limit settle: nothing admitted is ever
 *   retired, each refused slot gets user_connection_limit (issue 14: they used to retire each
 *   other's and their own slots in a loop);
 * - a restarted agent (a new instance) takes over its predecessor's slots once those are stale, and
 *   not before.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { admit, connectionsOf, emptyPool, touch, type Conn, type Limits, type PoolState } from '../../src/pool/index.ts'
import { conn, poolOf } from './helpers.ts'

const RUNS = 1000

const limitsArb: fc.Arbitrary<Limits> = fc.record({
  maxConnectionsPerUser: fc.integer({ min: 1, max: 4 }),
  sshMaxChannels: fc.constant(10),
  maxIdleTime: fc.constant(300_000),
  staleAfter: fc.integer({ min: 1_000, max: 180_000 }),
})

/**
 * A user's pool of up to 5 connections from instances a0..a2 (or none), seen at various times.
 * One connection per instance and slot, as admit() keeps it (a redialled slot replaces the old one).
 */
const poolArb = fc.uniqueArray(
  fc.record({
    agent: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    slot: fc.integer({ min: 0, max: 3 }),
    lastSeen: fc.integer({ min: 0, max: 400_000 }),
    busy: fc.integer({ min: 0, max: 3 }),
    draining: fc.boolean(),
  }),
  { maxLength: 5, selector: (c) => (c.agent === undefined ? Symbol('no agent') : `${c.agent}:${c.slot}`) },
)
const newcomerArb = fc.record({
  agent: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  slot: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
})

describe('the takeover rule', () => {
  test('a newcomer retires only its own slot or stale connections, and is refused when that leaves no room', () => {
    fc.assert(
      fc.property(limitsArb, poolArb, newcomerArb, fc.integer({ min: 0, max: 600_000 }), (limits, spec, who, now) => {
        const conns: Conn[] = spec.map((s, i) =>
          conn(`c${i}`, 'alice', {
            agentId: s.agent === undefined ? undefined : `a${s.agent}`,
            slot: s.agent === undefined ? undefined : s.slot,
            // lastSeen never after now: the shell brings it up to date before admitting.
            lastSeen: Math.min(s.lastSeen, now),
            busy: s.busy,
            state: s.draining ? 'draining' : 'ready',
          }),
        )
        const state = poolOf(conns)
        const agentId = who.agent === undefined ? undefined : `a${who.agent}`
        const r = admit(state, { id: 'new', user: 'alice', agentId, slot: who.slot }, now, limits)
        const isOwn = (c: Conn) => agentId !== undefined && who.slot !== undefined && c.agentId === agentId && c.slot === who.slot
        const isStale = (c: Conn) => now - c.lastSeen >= limits.staleAfter
        const takeable = conns.filter((c) => isOwn(c) || isStale(c)).length
        if (!r.ok) {
          expect(r.error).toEqual({ code: 'user_connection_limit', max: limits.maxConnectionsPerUser })
          // Refused only when even taking every takeable connection would leave no room.
          expect(conns.length - takeable + 1).toBeGreaterThan(limits.maxConnectionsPerUser)
          return
        }
        for (const retired of r.retired) {
          const c = conns.find((x) => x.id === retired.id)!
          // Never a live connection of another slot, of this instance or any other.
          expect(isOwn(c) || isStale(c)).toBe(true)
          expect(retired.reason).toBe(isOwn(c) ? 'replaced' : 'stale')
        }
        // The own slot's old connection always goes; stale ones only as far as room is needed.
        expect(r.retired.filter((x) => x.reason === 'replaced')).toHaveLength(conns.some(isOwn) ? 1 : 0)
        const after = connectionsOf(r.state, 'alice')
        expect(after.length).toBeLessThanOrEqual(Math.max(limits.maxConnectionsPerUser, conns.length))
        if (r.retired.some((x) => x.reason === 'stale')) expect(after.length).toBe(limits.maxConnectionsPerUser)
      }),
      { numRuns: RUNS },
    )
  })

  test('two live agents wanting more than the limit settle: nothing admitted is retired, the rest are refused', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        // The order in which refused (or never-dialled) slots redial.
        fc.array(fc.nat(), { minLength: 10, maxLength: 60 }),
        (max, wantA, wantB, order) => {
          const limits: Limits = { maxConnectionsPerUser: max, sshMaxChannels: 10, maxIdleTime: 300_000, staleAfter: 10_000 }
          const slots = [...Array.from({ length: wantA }, (_, s) => ['A', s] as const), ...Array.from({ length: wantB }, (_, s) => ['B', s] as const)]
          let state: PoolState = emptyPool()
          const held = new Map<string, string>() // "A0" → connection id
          let now = 0
          let seq = 0
          for (const pick of order) {
            now += 500
            // Both agents are alive: every connection was heard from just now.
            for (const id of held.values()) state = touch(state, id, now)
            const waiting = slots.filter(([a, s]) => !held.has(`${a}${s}`))
            if (waiting.length === 0) break
            const [agent, slot] = waiting[pick % waiting.length]!
            const r = admit(state, { id: `k${seq++}`, user: 'alice', agentId: agent, slot }, now, limits)
            if (!r.ok) {
              expect(r.error.code).toBe('user_connection_limit')
              // Refused only when the user is at the limit.
              expect(held.size).toBe(max)
              continue
            }
            expect(r.retired).toEqual([])
            state = r.state
            held.set(`${agent}${slot}`, `k${seq - 1}`)
          }
          expect(held.size).toBeLessThanOrEqual(max)
          expect(connectionsOf(state, 'alice').map((c) => c.id).sort()).toEqual([...held.values()].sort())
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('a new instance takes over its silent predecessor\'s slots once they are stale, and not before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1_000, max: 180_000 }), fc.integer({ min: 0, max: 1_000_000 }), (max, staleAfter, quietFor) => {
        const limits: Limits = { maxConnectionsPerUser: max, sshMaxChannels: 10, maxIdleTime: 300_000, staleAfter }
        // The predecessor filled every slot, then its machine went away without closing them.
        const old = Array.from({ length: max }, (_, s) => conn(`old${s}`, 'alice', { agentId: 'before', slot: s, lastSeen: 1_000 }))
        const now = 1_000 + quietFor
        const r = admit(poolOf(old), { id: 'new', user: 'alice', agentId: 'after', slot: 0 }, now, limits)
        if (quietFor < staleAfter) {
          expect(r).toEqual({ ok: false, error: { code: 'user_connection_limit', max } })
        } else {
          if (!r.ok) throw new Error(`refused: ${r.error.code}`)
          expect(r.retired).toEqual([{ id: 'old0', user: 'alice', reason: 'stale' }])
        }
      }),
      { numRuns: RUNS },
    )
  })
})
