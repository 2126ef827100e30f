import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhenResult, type CircuitBreakerPolicy } from 'cockatiel'
import { LRUCache } from 'lru-cache'
import type { Logger } from '../log/logger.ts'

/** Tunnels whose breaker is remembered; the least recently used one's is forgotten past this. */
const MAX_TUNNELS = 10_000

/** How a tunnel's breaker stands: `closed` lets requests through, `open` answers 503 circuit_open, `half-open` runs one trial. */
export type BreakerState = 'closed' | 'open' | 'half-open'

/** A breaker's figures for /admin/stats, /admin/connections, /metrics and the dashboard. */
export interface BreakerView {
  readonly tunnel: string
  readonly state: BreakerState
  /** Upstream failures in a row so far (the breaker opens at the threshold). */
  readonly failures: number
  /** When it last opened (ISO 8601), or null. */
  readonly openedAt: string | null
  /** While open: when the next trial request is let through (ISO 8601). */
  readonly retryAt: string | null
  /** The failure that opened it last. */
  readonly reason: string | null
}

/** What admit() says about a request to a tunnel. */
export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number; readonly message: string }

/** What a breaker judges: a failed attempt to reach the local service, or anything else (a success). */
export interface Judged {
  /** The local service could not be reached or did not answer (not its own 5xx, not the consumer leaving). */
  readonly upstreamFailed: boolean
  /** Why, for the log line and the view. */
  readonly reason?: string
}

interface Entry {
  readonly policy: CircuitBreakerPolicy
  readonly counter: ConsecutiveBreaker
  openedAt: number | undefined
  reason: string | undefined
}

/**
 * One circuit breaker per tunnel (cockatiel's CircuitBreakerPolicy with a ConsecutiveBreaker):
 * after `failures` upstream failures in a row the tunnel answers 503 `circuit_open` at once for
 * `cooldownMs`, without opening a channel; then one trial request goes through, and its success
 * closes the breaker (its failure opens it for another cool-down). Requests that arrive while the
 * trial runs are answered `circuit_open` too rather than held. Tunnels never share a breaker.
 * `failures` 0 turns breakers off. Transitions are logged and counted (`transitions`).
 */
export class CircuitBreakers {
  readonly #entries = new LRUCache<string, Entry>({ max: MAX_TUNNELS })
  /** Transitions since start, by the state entered. */
  readonly transitions: Record<BreakerState, number> = { closed: 0, open: 0, 'half-open': 0 }

  constructor(
    private readonly failures: number,
    private readonly cooldownMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.failures > 0
  }

  /** Whether a request to `tunnel` may try its local service now; when not, how long to wait. */
  admit(tunnel: string): Admission {
    if (this.failures === 0) return OK
    const entry = this.#entries.peek(tunnel)
    if (entry === undefined) return OK
    const state = entry.policy.state
    if (state === CircuitState.HalfOpen) return { ok: false, retryAfterS: 1, message: `tunnel ${tunnel}'s local service is being tried again; retry in 1 s` }
    if (state !== CircuitState.Open || entry.openedAt === undefined) return OK
    const left = entry.openedAt + this.cooldownMs - this.now()
    // Past the cool-down the next request is the trial (cockatiel moves to half-open when it runs).
    if (left <= 0) return OK
    const retryAfterS = Math.max(1, Math.ceil(left / 1000))
    return { ok: false, retryAfterS, message: `tunnel ${tunnel}'s local service failed ${this.failures} times in a row (${entry.reason ?? 'unreachable'}); retry in ${retryAfterS} s` }
  }

  /**
   * Run `attempt` (one try to reach `tunnel`'s service) under its breaker and judge the result with
   * `judge`. Resolves `undefined` without running it when the breaker opened meanwhile.
   * A closed breaker with no failures counted only needs to hear of a failure: its requests run
   * outside cockatiel's executor, and a failure is handed to the policy afterwards (the executor's
   * allocations per request: docs/BENCHMARKS.md, "Allocations per request").
   */
  async run<T>(tunnel: string, attempt: () => Promise<T>, judge: (result: T) => Judged): Promise<T | undefined> {
    if (this.#quiet(tunnel)) {
      const result = await attempt()
      await this.#judged(tunnel, judge(result))
      return result
    }
    const entry = this.#entryOf(tunnel)
    try {
      return await entry.policy.execute(async () => {
        const result = await attempt()
        const verdict = judge(result)
        if (verdict.upstreamFailed) entry.reason = verdict.reason
        return { result, failed: verdict.upstreamFailed }
      }).then((r) => r.result)
    } catch (err) {
      if (err instanceof BrokenCircuitError) return undefined
      throw err
    }
  }

  /** `tunnel`'s breaker, or a closed one with no failures if it never failed. */
  /** Nothing to tell `tunnel`'s breaker but a failure: it is closed with no failure counted (or breakers are off). */
  #quiet(tunnel: string): boolean {
    if (this.failures === 0) return true
    const entry = this.#entries.get(tunnel)
    return entry === undefined || (entry.policy.state === CircuitState.Closed && entry.counter.state === 0)
  }

  /**
   * The verdict on a request run while the breaker was quiet. Only a failure is news, and only
   * while the breaker is still closed (cockatiel counts a request by the state it began in).
   */
  #judged(tunnel: string, verdict: Judged): Promise<void> | undefined {
    if (this.failures === 0 || !verdict.upstreamFailed) return undefined
    const entry = this.#entryOf(tunnel)
    if (entry.policy.state !== CircuitState.Closed) return undefined
    entry.reason = verdict.reason
    return entry.policy.execute(async () => FAILED).then(
      () => {},
      (err: unknown) => {
        if (!(err instanceof BrokenCircuitError)) throw err
      },
    )
  }

  view(tunnel: string): BreakerView {
    const entry = this.#entries.peek(tunnel)
    return entry === undefined ? closedView(tunnel) : this.#view(tunnel, entry)
  }

  /** Every breaker that is not closed, or has failures counting towards opening. */
  troubled(): BreakerView[] {
    const out: BreakerView[] = []
    for (const [tunnel, entry] of this.#entries.entries()) {
      const v = this.#view(tunnel, entry)
      if (v.state !== 'closed' || v.failures > 0) out.push(v)
    }
    return out
  }

  #view(tunnel: string, entry: Entry): BreakerView {
    const state = stateName(entry.policy.state)
    return {
      tunnel,
      state,
      failures: entry.counter.state,
      openedAt: entry.openedAt === undefined ? null : new Date(entry.openedAt).toISOString(),
      retryAt: state === 'open' && entry.openedAt !== undefined ? new Date(entry.openedAt + this.cooldownMs).toISOString() : null,
      reason: entry.reason ?? null,
    }
  }

  #entryOf(tunnel: string): Entry {
    let entry = this.#entries.get(tunnel)
    if (entry !== undefined) return entry
    const counter = new ConsecutiveBreaker(this.failures)
    const policy = circuitBreaker(
      handleWhenResult((r) => (r as { failed?: boolean }).failed === true),
      { halfOpenAfter: this.cooldownMs, breaker: counter },
    )
    const created: Entry = { policy, counter, openedAt: undefined, reason: undefined }
    entry = created
    // Once per tunnel, for its lifetime: no per-request listener (see gateway/live-conn.ts).
    policy.onStateChange((state) => {
      const name = stateName(state)
      this.transitions[name]++
      if (name === 'open') {
        created.openedAt = this.now()
        this.log.warn('circuit_opened', { user: tunnel, failures: this.failures, cooldownMs: this.cooldownMs, reason: created.reason })
      } else if (name === 'half-open') this.log.info('circuit_half_open', { user: tunnel })
      else this.log.info('circuit_closed', { user: tunnel })
    })
    this.#entries.set(tunnel, created)
    return created
  }
}

const OK: Admission = { ok: true }
const FAILED = { failed: true } as const

function stateName(state: CircuitState): BreakerState {
  if (state === CircuitState.Open || state === CircuitState.Isolated) return 'open'
  if (state === CircuitState.HalfOpen) return 'half-open'
  return 'closed'
}

function closedView(tunnel: string): BreakerView {
  return { tunnel, state: 'closed', failures: 0, openedAt: null, retryAt: null, reason: null }
}
