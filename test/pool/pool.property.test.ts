import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import {
  admit,
  type Closed,
  type Conn,
  drainAll,
  emptyPool,
  type Limits,
  markDraining,
  pick,
  type PoolError,
  type PoolState,
  release,
  remove,
  sweep,
  touch,
} from '../../src/pool/index.ts'
import { view } from './helpers.ts'

// ---- Commands: a tagged union; ids are chosen by index so they hit existing connections. ----

const USERS = ['u0', 'u1', 'u2', 'u3'] as const
type Cmd =
  | { t: 'admit'; user: number; agent: number | undefined; slot: number; reuse: number | undefined }
  | { t: 'pick'; user: number }
  | { t: 'release' | 'touch' | 'remove' | 'markDraining'; target: number }
  | { t: 'touchAll' }
  | { t: 'sweep' }
  | { t: 'drainAll' }
type Step = { cmd: Cmd; dt: number }

const user = fc.integer({ min: 0, max: USERS.length - 1 })
const target = fc.nat({ max: 20 })
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      t: fc.constant('admit' as const),
      user,
      agent: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      slot: fc.integer({ min: 0, max: 2 }),
      // Now and then reuse an existing id, to provoke duplicate_connection.
      reuse: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: target }),
    }),
  },
  { weight: 30, arbitrary: fc.record({ t: fc.constant('pick' as const), user }) },
  { weight: 20, arbitrary: fc.record({ t: fc.constant('release' as const), target }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('touch' as const), target }) },
  // A keep-alive round: every peer answers (keeps connections alive long enough to go idle).
  { weight: 25, arbitrary: fc.constant({ t: 'touchAll' as const }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('remove' as const), target }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('markDraining' as const), target }) },
  { weight: 10, arbitrary: fc.constant({ t: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'drainAll' as const }) },
)
// Time only moves forward: mostly small steps, sometimes long enough to go idle or stale.
const dt = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 60_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 400_000 }) },
)
// size 'max': without it fast-check keeps arrays to about 10 steps, too short to fill pools.
const steps = fc.array(fc.record({ cmd, dt }), { maxLength: 80, size: 'max' })
const limitsArb: fc.Arbitrary<Limits> = fc.record({
  maxConnectionsPerUser: fc.integer({ min: 1, max: 4 }),
  sshMaxChannels: fc.integer({ min: 1, max: 4 }),
  maxIdleTime: fc.integer({ min: 1_000, max: 120_000 }),
  staleAfter: fc.integer({ min: 30_000, max: 180_000 }),
})

// ---- The model: a plain mutable Map and the rules written out naively. ----

class Model {
  readonly conns = new Map<string, Conn>() // insertion order = admission order
  draining = false
  private next = 0

  constructor(readonly limits: Limits) {}

  ofUser(u: string): Conn[] {
    return [...this.conns.values()].filter((c) => c.user === u)
  }
  ids(): string[] {
    return [...this.conns.keys()].sort()
  }
  /** An existing id, or (one slot in ids+1) an id the pool has never seen. */
  resolve(i: number): string {
    const ids = this.ids()
    return ids[i % (ids.length + 1)] ?? 'unknown'
  }
  freshId(): string {
    return `c${this.next++}`
  }
  update(id: string, f: (c: Conn) => Conn): void {
    const c = this.conns.get(id)
    if (c) this.conns.set(id, f(c))
  }
  isStale(c: Conn, now: number): boolean {
    return now - c.lastSeen >= this.limits.staleAfter
  }
  isIdle(c: Conn, now: number): boolean {
    return c.busy === 0 && now - c.lastActive >= this.limits.maxIdleTime
  }
  /** What the pool must look like, in the shape of view(). */
  picture(): ReturnType<typeof view> {
    const byUser = new Map<string, string[]>()
    for (const c of this.conns.values()) byUser.set(c.user, [...(byUser.get(c.user) ?? []), c.id])
    const byKey = <T extends [string, unknown]>(a: T, b: T) => (a[0] < b[0] ? -1 : 1)
    return {
      conns: [...this.conns].sort(byKey).map(([, c]) => c),
      byUser: [...byUser].sort(byKey),
      draining: this.draining,
    }
  }
}

// ---- Invariants on the real state, after every step. ----

function checkInvariants(state: PoolState, limits: Limits): void {
  const indexed = new Set<string>()
  for (const [u, ids] of state.byUser) {
    expect(ids.length).toBeGreaterThan(0)
    expect(ids.length).toBeLessThanOrEqual(limits.maxConnectionsPerUser)
    for (const id of ids) {
      expect(indexed.has(id)).toBe(false)
      indexed.add(id)
      expect(state.conns.get(id)?.user).toBe(u)
    }
  }
  expect(new Set(state.conns.keys())).toEqual(indexed)
  for (const c of state.conns.values()) {
    expect(c.busy).toBeGreaterThanOrEqual(0)
    expect(c.busy).toBeLessThanOrEqual(limits.sshMaxChannels)
  }
}

// ---- Coverage: which outcomes the generated sequences reached (asserted after the run). ----

const seen = new Map<string, number>()
const saw = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1)

// ---- One step: run it on the pool and the model, compare what came back. ----

function runStep(state: PoolState, model: Model, cmd: Cmd, now: number): PoolState {
  const { limits } = model
  switch (cmd.t) {
    case 'admit': {
      const u = USERS[cmd.user]!
      const agentId = cmd.agent === undefined ? undefined : `agent${cmd.agent}`
      const taken = model.ids()
      const id = cmd.reuse === undefined || taken.length === 0 ? model.freshId() : taken[cmd.reuse % taken.length]!
      const slot = agentId === undefined ? undefined : cmd.slot
      const r = admit(state, agentId === undefined ? { id, user: u } : { id, user: u, agentId, slot }, now, limits)
      const mine = model.ofUser(u)
      // The takeover rule, written out: its own slot's connection goes; at the limit, stale ones
      // (longest silent first) make room; a live connection of any other slot is never taken.
      const own = mine.find((c) => agentId !== undefined && c.agentId === agentId && c.slot === slot)
      const others = mine.filter((c) => c !== own)
      const excess = others.length + 1 - limits.maxConnectionsPerUser
      const stale = others.filter((c) => model.isStale(c, now)).sort((a, b) => a.lastSeen - b.lastSeen).slice(0, Math.max(0, excess))
      if (model.draining) return expectRefusal(r, { code: 'draining' }, state)
      if (model.conns.has(id)) return expectRefusal(r, { code: 'duplicate_connection', id }, state)
      if (stale.length < excess) return expectRefusal(r, { code: 'user_connection_limit', max: limits.maxConnectionsPerUser }, state)
      if (!r.ok) throw new Error(`admit refused: ${JSON.stringify(r.error)}`)
      const retired: Closed[] = [
        ...(own === undefined ? [] : [{ id: own.id, user: u, reason: 'replaced' as const }]),
        ...stale.map((c) => ({ id: c.id, user: u, reason: 'stale' as const })),
      ]
      for (const c of retired) model.conns.delete(c.id)
      expect(r.retired).toEqual(retired)
      saw(own !== undefined ? 'admit:replaced' : stale.length > 0 ? 'admit:took-stale' : 'admit:ok')
      model.conns.set(id, { id, user: u, agentId, slot, openedAt: now, lastSeen: now, lastActive: now, busy: 0, state: 'ready' })
      return r.state
    }
    case 'pick': {
      const u = USERS[cmd.user]!
      const r = pick(state, u, now, limits)
      const ready = model.ofUser(u).filter((c) => c.state === 'ready')
      const free = ready.filter((c) => c.busy < limits.sshMaxChannels)
      if (free.length === 0) {
        expect(r).toEqual({ ok: false, reason: ready.length === 0 ? 'no_tunnel' : 'saturated' })
        saw(`pick:${ready.length === 0 ? 'no_tunnel' : 'saturated'}`)
        return state
      }
      if (!r.ok) throw new Error(`pick failed (${r.reason}) with a free ready connection`)
      const chosen = model.conns.get(r.id)
      expect(chosen?.user).toBe(u) // never another user's connection
      expect(free.map((c) => c.id)).toContain(r.id)
      expect(chosen?.busy).toBe(Math.min(...free.map((c) => c.busy))) // least busy
      saw(free.length > 1 ? 'pick:ok-among-several' : 'pick:ok')
      model.update(r.id, (c) => ({ ...c, busy: c.busy + 1, lastActive: Math.max(c.lastActive, now) }))
      return r.state
    }
    case 'release':
    case 'touch':
    case 'remove':
    case 'markDraining': {
      const id = model.resolve(cmd.target)
      const before = model.conns.get(id)
      const next =
        cmd.t === 'release' ? release(state, id, now)
        : cmd.t === 'touch' ? touch(state, id, now)
        : cmd.t === 'remove' ? remove(state, id)
        : markDraining(state, id)
      const noop =
        before === undefined ||
        (cmd.t === 'release' && before.busy === 0) ||
        (cmd.t === 'touch' && now <= before.lastSeen) ||
        (cmd.t === 'markDraining' && before.state === 'draining')
      saw(`${cmd.t}:${noop ? 'noop' : 'change'}`)
      if (noop) {
        expect(next).toBe(state)
        return next
      }
      if (cmd.t === 'release') model.update(id, (c) => ({ ...c, busy: c.busy - 1, lastActive: Math.max(c.lastActive, now) }))
      if (cmd.t === 'touch') model.update(id, (c) => ({ ...c, lastSeen: now }))
      if (cmd.t === 'remove') model.conns.delete(id)
      if (cmd.t === 'markDraining') model.update(id, (c) => ({ ...c, state: 'draining' }))
      return next
    }
    case 'touchAll': {
      let next = state
      for (const id of model.conns.keys()) {
        next = touch(next, id, now)
        model.update(id, (c) => ({ ...c, lastSeen: Math.max(c.lastSeen, now) }))
      }
      return next
    }
    case 'drainAll': {
      const next = drainAll(state)
      const noop = model.draining && [...model.conns.values()].every((c) => c.state === 'draining')
      if (noop) expect(next).toBe(state)
      saw('drainAll')
      model.draining = true
      for (const id of model.conns.keys()) model.update(id, (c) => ({ ...c, state: 'draining' }))
      return next
    }
    case 'sweep':
      return checkSweep(state, model, now)
  }
}

function expectRefusal(r: ReturnType<typeof admit>, error: PoolError, state: PoolState): PoolState {
  saw(`admit:${error.code}`)
  expect(r).toEqual({ ok: false, error } as ReturnType<typeof admit>)
  return state
}

function checkSweep(state: PoolState, model: Model, now: number): PoolState {
  const r = sweep(state, now, model.limits)
  const all = [...model.conns.values()]
  const stale = all.filter((c) => model.isStale(c, now))
  const staleClosed = r.closed.filter((c) => c.reason === 'stale')
  const idleClosed = r.closed.filter((c) => c.reason === 'idle')
  const ids = (xs: readonly { id: string }[]) => xs.map((x) => x.id)

  // Every connection stale at sweep time is closed as stale, and nothing else is.
  expect(ids(staleClosed)).toEqual(ids(stale).sort())
  // Order: stale first, then idle, each by id ascending.
  expect(r.closed).toEqual([...staleClosed, ...idleClosed])
  expect(ids(idleClosed)).toEqual(ids(idleClosed).sort())

  for (const u of USERS) {
    const live = model.ofUser(u).filter((c) => !model.isStale(c, now))
    const idle = live.filter((c) => model.isIdle(c, now))
    const closed = new Set(ids(idleClosed.filter((c) => c.user === u)))
    for (const id of closed) expect(ids(idle)).toContain(id) // only truly idle ones go
    if (live.length > 0) {
      // Never the user's last live connection: someone live stays.
      expect(closed.size).toBeLessThan(live.length)
    }
    if (idle.length < live.length) {
      expect(closed.size).toBe(idle.length) // a non-idle one stays, so every idle one goes
    } else if (idle.length > 0) {
      expect(closed.size).toBe(idle.length - 1) // all idle: exactly one stays, the most recently active
      const kept = idle.find((c) => !closed.has(c.id))!
      saw(idle.length > 1 ? 'sweep:kept-most-recent-of-several-idle' : 'sweep:kept-last-idle')
      for (const c of idle) expect(kept.lastActive).toBeGreaterThanOrEqual(c.lastActive)
    }
  }

  if (stale.some((c) => c.busy > 0)) saw('sweep:stale-while-busy')
  if (idleClosed.length > 0) saw('sweep:idle')
  if (r.closed.length === 0) saw('sweep:noop')
  if (r.closed.length === 0) expect(r.state).toBe(state)
  for (const c of r.closed) {
    expect(model.conns.get(c.id)?.user).toBe(c.user)
    model.conns.delete(c.id)
  }
  return r.state
}

describe('pool properties', () => {
  test('random command sequences keep every invariant and match a simple model', () => {
    fc.assert(
      fc.property(limitsArb, fc.integer({ min: 0, max: 2 ** 40 }), steps, (limits, start, script: Step[]) => {
        const model = new Model(limits)
        let state = emptyPool()
        let now = start
        saw(`length:${Math.floor(script.length / 20) * 20}+`)
        for (const { cmd, dt } of script) {
          now += dt
          state = runStep(state, model, cmd, now)
          checkInvariants(state, limits)
          expect(view(state)).toEqual(model.picture())
        }
      }),
      { numRuns: 1000 },
    )
    // The generators must reach every outcome, or the property proves little.
    const outcomes = [
      'admit:ok', 'admit:replaced', 'admit:took-stale', 'admit:user_connection_limit', 'admit:draining', 'admit:duplicate_connection',
      'pick:ok', 'pick:ok-among-several', 'pick:no_tunnel', 'pick:saturated',
      'release:change', 'release:noop', 'touch:change', 'touch:noop', 'remove:change', 'remove:noop',
      'markDraining:change', 'markDraining:noop', 'drainAll',
      'sweep:noop', 'sweep:idle', 'sweep:stale-while-busy', 'sweep:kept-last-idle', 'sweep:kept-most-recent-of-several-idle',
    ]
    if (process.env.POOL_COVERAGE) console.log(Object.fromEntries([...seen].sort()))
    expect(outcomes.filter((o) => (seen.get(o) ?? 0) < 10)).toEqual([])
  })
})
