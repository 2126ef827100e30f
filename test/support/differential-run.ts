/**
 * Running one differential case: the same request sent to the origin directly and through the
 * tunnel, both answers reduced to canonical form, and compared (see differential.ts).
 */
import { canonical, compare, expectedAndActual, type Canonical, type Comparison, type DiffContext, type Rule } from './differential.ts'
import type { RuntimeName } from './processes.ts'
import { rawRequest, type HeaderList } from './raw-http.ts'
import { probeWebSocket } from './raw-websocket.ts'


export interface DiffCase {
  readonly origin: 'httpbin' | 'edge'
  readonly method?: string
  /** Origin-form target on the origin; path routing puts `/t/<tunnel>` in front. */
  readonly target: string
  readonly routing?: 'path' | 'host'
  /** The consumer's own fields, sent on both paths (the tunnel path adds its credential). */
  readonly headers?: HeaderList
  readonly body?: string
  /** How the tunnel token travels: `Authorization: Bearer` (default) or `Burrow-Token`. */
  readonly credential?: 'bearer' | 'burrow-token'
  readonly rules?: readonly Rule[]
  /** Compare body timing: arrivals this many ms apart are separate bursts. Runs in the quiet phase. */
  readonly gapMs?: number
  /**
   * When to run, after the concurrent bulk: `quiet` with only the other quiet cases (timing, or an
   * origin whose answer depends on shared state, like a global random seed); `last` after
   * everything (a case that may bring the gateway down must not take the other cases with it).
   */
  readonly phase?: 'quiet' | 'last'
  /** A WebSocket handshake instead of a plain request. */
  readonly websocket?: { readonly protocols: readonly string[]; readonly send?: string; readonly expect: number }
  /**
   * Where a runtime's server cannot do what the case needs (README: the runtime table), the rules
   * that state the documented behaviour there instead. Any other difference still fails.
   */
  readonly onRuntime?: Partial<Readonly<Record<RuntimeName, readonly Rule[]>>>
  /** Why this case exists, when the target does not say it. */
  readonly about?: string
}

/** One origin as the suite reaches it: its port on 127.0.0.1, its tunnel (= user) and that user's token. */
export interface DiffTarget {
  readonly port: number
  readonly tunnel: string
  readonly token: string
}

/** A gateway on one runtime (its port on 127.0.0.1) and the two origins tunnelled through it. */
export interface DiffEnv {
  readonly runtime: RuntimeName
  readonly gatewayPort: number
  readonly targets: Readonly<Record<DiffCase['origin'], DiffTarget>>
}

/** A case's result: the differences (empty: faithful), the allowances used, and both canonical answers. */
export interface Outcome extends Comparison {
  readonly direct: Canonical
  readonly tunnel: Canonical
}

/** The test's name: method, origin, target, routing, and what it is about. */
export function caseName(c: DiffCase): string {
  const what = c.websocket !== undefined ? 'WebSocket' : (c.method ?? 'GET')
  const routing = c.routing === 'host' ? ' (host routing)' : ''
  const about = c.about !== undefined ? ` — ${c.about}` : ''
  return `${c.origin} ${what} ${c.target}${routing}${about}`
}

/** What the rules need to know about where `c` ran: routing, public host, prefix, the origin's host. */
export function contextFor(c: DiffCase, env: DiffEnv): DiffContext {
  const t = env.targets[c.origin]
  const host = c.routing === 'host'
  return {
    runtime: env.runtime,
    routing: host ? 'host' : 'path',
    publicHost: host ? `${t.tunnel}.localhost:${env.gatewayPort}` : `127.0.0.1:${env.gatewayPort}`,
    prefix: host ? '' : `/t/${t.tunnel}`,
    originHost: `127.0.0.1:${t.port}`,
  }
}

const REQUEST_TIMEOUT_MS = 15_000
// How long a WebSocket case waits for its messages before comparing what came.
const WEBSOCKET_WAIT_MS = 4_000

async function send(c: DiffCase, port: number, target: string, host: string, credential: HeaderList, gapMs: number | undefined): Promise<Canonical> {
  const headers: (readonly [string, string])[] = [['Host', host], ...credential, ...(c.headers ?? [])]
  if (c.websocket !== undefined) {
    const probe = await probeWebSocket({ port, target, host, headers: headers.slice(1), ...c.websocket, timeoutMs: WEBSOCKET_WAIT_MS })
    return canonical(probe.response, undefined, probe.messages)
  }
  const body = c.body === undefined ? undefined : Buffer.from(c.body, 'utf8')
  if (body !== undefined) headers.push(['Content-Length', String(body.length)])
  const res = await rawRequest({ port, method: c.method ?? 'GET', target, headers, body, timeoutMs: REQUEST_TIMEOUT_MS })
  return canonical(res, gapMs)
}

/** Send `c` directly, then through the tunnel, and compare. */
export async function runCase(c: DiffCase, env: DiffEnv): Promise<Outcome> {
  const t = env.targets[c.origin]
  const ctx = contextFor(c, env)
  const direct = await send(c, t.port, c.target, ctx.originHost, [], c.gapMs)
  const credential: [string, string] = c.credential === 'burrow-token' ? ['Burrow-Token', t.token] : ['Authorization', `Bearer ${t.token}`]
  const tunnel = await send(c, env.gatewayPort, `${ctx.prefix}${c.target}`, ctx.publicHost, [credential], c.gapMs)
  const [expected, actual] = expectedAndActual(direct, tunnel, [...(c.rules ?? []), ...(c.onRuntime?.[env.runtime] ?? [])], ctx)
  return { ...compare(expected, actual, ctx), direct, tunnel }
}

const phaseOf = (c: DiffCase) => c.phase ?? (c.gapMs !== undefined ? 'quiet' : 'bulk')

/**
 * Run every case: the bulk `concurrency` at a time, then the quiet ones together, then the last
 * ones (see `DiffCase.phase`) once `lastAfter` has settled too (other checks on the same gateway).
 * Each case's outcome is available as soon as it is done.
 */
export function runAll(cases: readonly DiffCase[], env: DiffEnv, lastAfter: Promise<unknown> = Promise.resolve(), concurrency = 8): Map<DiffCase, Promise<Outcome>> {
  const out = new Map<DiffCase, Promise<Outcome>>()
  const resolvers = new Map<DiffCase, (o: Promise<Outcome>) => void>()
  for (const c of cases) out.set(c, new Promise((r) => resolvers.set(c, r)))
  const start = (c: DiffCase) => {
    const p = runCase(c, env)
    resolvers.get(c)!(p)
    return p.catch(() => undefined)
  }
  const bulk = cases.filter((c) => phaseOf(c) === 'bulk')
  const worker = async () => {
    for (let c = bulk.shift(); c !== undefined; c = bulk.shift()) await start(c)
  }
  void (async () => {
    await Promise.all(Array.from({ length: concurrency }, worker))
    await Promise.all(cases.filter((c) => phaseOf(c) === 'quiet').map(start))
    await lastAfter.catch(() => undefined)
    await Promise.all(cases.filter((c) => phaseOf(c) === 'last').map(start))
  })()
  return out
}
