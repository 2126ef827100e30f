/** Small helpers for tests that watch a gateway through its admin API and its processes' output. */
import type { Proc } from './processes.ts'
import { TEST_ADMIN_TOKEN } from './processes.ts'

/** One entry of `GET /admin/connections`. */
export interface ConnectionView {
  id: string
  user: string
  agentId: string | null
  /** Which of its connections the agent meant this to be (0, 1, …), or null. */
  slot: number | null
  remoteAddress: string | null
  transport: string
  public: boolean
  opened: string
  lastSeen: string
  lastActivity: string
  busy: number
  channels: number
  requests: number
  bytesIn: number
  bytesOut: number
  state: string
}

export const adminHeaders = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

/** `fetch` an admin route with the test admin token. */
export function admin(gatewayUrl: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${gatewayUrl}${path}`, { ...init, headers: { ...adminHeaders, ...(init.headers as Record<string, string>) } })
}

/** The gateway's connections of `user` (all users when omitted). */
export async function connectionsOf(gatewayUrl: string, user?: string): Promise<ConnectionView[]> {
  const { connections } = (await (await admin(gatewayUrl, '/admin/connections')).json()) as { connections: ConnectionView[] }
  return user === undefined ? connections : connections.filter((c) => c.user === user)
}

/** Poll `check` every `everyMs` until it returns a value other than undefined; throw after `ms`. */
export async function eventually<T>(what: string | (() => string), check: () => Promise<T | undefined> | T | undefined, ms = 15_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** How many times `re` occurs in the process output so far. */
export function countIn(proc: Proc, re: RegExp): number {
  return proc.output().match(new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'))?.length ?? 0
}

/** Wait until `re` has occurred at least `n` times in the process output. */
export function waitForCount(proc: Proc, re: RegExp, n: number, ms = 20_000): Promise<number> {
  return eventually(() => `${n}× ${re} in the output:\n${proc.output().slice(-2000)}`, () => {
    const count = countIn(proc, re)
    return count >= n ? count : undefined
  }, ms)
}

/**
 * Wait until the agent (run with LOG_LEVEL=info) has brought tunnels up `n` times in total. Its
 * status line is no counter: it repeats "connected (k/k)" whenever the served count changes.
 */
export function waitForTunnelsUp(agent: Proc, n: number, ms = 20_000): Promise<number> {
  return waitForCount(agent, /"event":"agent_tunnel_up"/, n, ms)
}

/** The JSON log lines of a process with `event` (and optionally matching fields). */
export function logLines(proc: Proc, event: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const line of proc.output().split('\n')) {
    if (!line.startsWith('{') || !line.includes(`"${event}"`)) continue
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (parsed.event === event) out.push(parsed)
    } catch {
      // A line cut in the middle of a write: not a log record yet.
    }
  }
  return out
}

/** Settle with `promise`, or throw after `ms` naming `what`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    )
  })
}
