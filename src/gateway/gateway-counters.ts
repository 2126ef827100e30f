/**
 * Events of the gateway's own life that /metrics counts and nothing else keeps: connections that
 * stopped answering SSH keep-alives, sweeps, and how long the drain took. Plain numbers, changed
 * where the event happens and read at scrape time.
 */
export class GatewayCounters {
  /** SSH sessions ssh2 ended because the peer missed MISSED_KEEPALIVES keep-alives in a row. */
  keepaliveTimeouts = 0
  /** Sweeps run, by what started them. */
  readonly sweeps = { interval: 0, admin: 0 }
  /** When the drain began (ms since the epoch), once stop() was called. */
  drainStartedAt: number | undefined
  /** How long the drain took, ms, once it is over. */
  drainMs: number | undefined

  /** Seconds the drain took, or has taken so far; 0 before any drain. */
  drainSeconds(now: number = Date.now()): number {
    if (this.drainMs !== undefined) return this.drainMs / 1000
    return this.drainStartedAt === undefined ? 0 : (now - this.drainStartedAt) / 1000
  }
}
