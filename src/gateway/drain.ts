import type { Logger } from '../log/logger.ts'
import type { GatewayCore } from './core.ts'
import type { TunnelRegistry } from './tunnel-registry.ts'

// After the agents are told to go: time for their close handshakes before the listeners close.
const DISCONNECT_WAIT_MS = 300
// A listener closing gracefully waits for its open HTTP connections; past this they are cut.
const LISTENER_CLOSE_MS = 500

export interface DrainPlan {
  readonly graceMs: number
  readonly log: Logger
  readonly registry: TunnelRegistry
  readonly inflight: GatewayCore['inflight']
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
  const idle = await waitForIdle(inflight, plan.graceMs)
  if (!idle) log.warn('drain_deadline', { cut: inflight.count, graceMs: plan.graceMs })

  const open = registry.list()
  for (const conn of open) conn.close('server shutting down', 1000)
  if (open.length > 0) await until(() => registry.list().length === 0, DISCONNECT_WAIT_MS)

  const graceful = plan.closeListeners(false).then(() => true, () => false)
  const closed = await Promise.race([graceful, sleep(LISTENER_CLOSE_MS).then(() => false)])
  if (!closed) await plan.closeListeners(true).catch(() => undefined)
  log.info('stopped', { inflight: inflight.count, ms: Date.now() - startedAt })
}

/** Resolve true once nothing is in flight, false at the deadline. */
function waitForIdle(inflight: GatewayCore['inflight'], ms: number): Promise<boolean> {
  if (inflight.count === 0) return Promise.resolve(true)
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      inflight.onIdle = undefined
      resolve(false)
    }, ms)
    inflight.onIdle = () => {
      clearTimeout(timer)
      inflight.onIdle = undefined
      resolve(true)
    }
  })
}

/** Poll `done` every 10 ms for at most `ms` (bounded; there is no event for "all sockets closed"). */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!done() && Date.now() < deadline) await sleep(10)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
