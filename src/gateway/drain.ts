import type { Logger } from '../log/logger.ts'
import { retiredNotice } from '../transport/close-codes.ts'
import type { InFlight } from './in-flight.ts'
import type { TunnelRegistry } from './tunnel-registry.ts'

// After the agents are told to go: time for their close handshakes before the listeners close.
const DISCONNECT_WAIT_MS = 300
// A listener closing gracefully waits for its open HTTP connections; past this they are cut.
const LISTENER_CLOSE_MS = 500

export interface DrainPlan {
  readonly graceMs: number
  readonly log: Logger
  readonly registry: TunnelRegistry
  readonly inflight: InFlight
  /** Close every listener (HTTP, SSH TCP); with `force`, cut the connections still open. */
  closeListeners(force: boolean): Promise<void>
}

/**
 * The drain after `stop()` (the caller has already made health checks and new requests answer
 * 503): refuse new tunnels, let in-flight requests run for up to `graceMs`, then disconnect every
 * agent with "server shutting down" (their cue to reconnect elsewhere) and close the listeners.
 * Requests still running at the deadline are cut with their connections. Resolves within about
 * `graceMs` + 1 s.
 */
export async function drain(plan: DrainPlan): Promise<void> {
  const { log, registry, inflight } = plan
  const startedAt = Date.now()
  registry.drain()
  log.info('draining', { inflight: inflight.count, graceMs: plan.graceMs })
  const idle = await inflight.whenIdle(plan.graceMs)
  if (!idle) log.warn('drain_deadline', { cut: inflight.count, graceMs: plan.graceMs })

  const open = registry.list()
  const notice = retiredNotice('shutdown')
  for (const conn of open) conn.close(notice.reason, notice.code)
  if (open.length > 0) await until(() => registry.list().length === 0, DISCONNECT_WAIT_MS)

  const graceful = plan.closeListeners(false).then(() => true, () => false)
  const closed = await Promise.race([graceful, sleep(LISTENER_CLOSE_MS).then(() => false)])
  if (!closed) await plan.closeListeners(true).catch(() => undefined)
  log.info('stopped', { inflight: inflight.count, ms: Date.now() - startedAt })
}

/** Poll `done` every 10 ms for at most `ms` (bounded; there is no event for "all sockets closed"). */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!done() && Date.now() < deadline) await sleep(10)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
