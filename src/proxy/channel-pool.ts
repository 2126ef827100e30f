import type { Duplex } from 'node:stream'

// An idle kept-alive channel is dropped after this long. Below Node's default server
// keepAliveTimeout (5 s), so we usually let go before the local service does, which keeps the
// "service closed it just as we reused it" race rare (the exchange retries once when it happens).
const IDLE_MS = 4_000
// A channel is let go this long before the service's announced keep-alive timeout runs out.
const SERVICE_MARGIN_MS = 1_000

interface IdleEntry {
  readonly channel: Duplex
  readonly timer: ReturnType<typeof setTimeout> | number
}

/** The pool an idle channel rests in, for the listeners below (one set for every channel, no closures). */
const RESTING = Symbol('burrow.resting')
type Resting = Duplex & { [RESTING]?: ChannelPool }

/**
 * The idle, kept-alive channels of one agent connection. A channel comes back here only after a
 * complete HTTP/1.1 exchange the local service agreed to keep alive; it leaves when reused, when
 * it has been idle for a while, or the moment the agent or the service closes it.
 */
export class ChannelPool {
  readonly #idle: IdleEntry[] = []
  readonly #idleMs: number
  #closed = false

  constructor(options: { idleMs?: number } = {}) {
    this.#idleMs = options.idleMs ?? IDLE_MS
  }

  /** Idle channels right now. */
  get size(): number {
    return this.#idle.length
  }

  /** Take the most recently used idle channel, or undefined. */
  take(): Duplex | undefined {
    for (;;) {
      const entry = this.#idle.pop()
      if (entry === undefined) return undefined
      this.#forget(entry)
      if (usable(entry.channel)) return entry.channel
      entry.channel.destroy()
    }
  }

  /**
   * Keep `channel` for the next request, at most `serviceKeepsMs` (what the service said it keeps an
   * idle connection, `Keep-Alive: timeout=N`) less a second, so the gateway lets go first.
   */
  recycle(channel: Duplex, serviceKeepsMs?: number): void {
    const keepMs = serviceKeepsMs === undefined ? this.#idleMs : Math.min(this.#idleMs, serviceKeepsMs - SERVICE_MARGIN_MS)
    if (this.#closed || !usable(channel) || keepMs <= 0) return void channel.destroy()
    ;(channel as Resting)[RESTING] = this
    // While idle, any byte, EOF or close means the channel cannot carry another exchange.
    channel.on('data', onRestingGone)
    channel.on('end', onRestingGone)
    channel.on('close', onRestingGone)
    channel.on('error', onRestingGone)
    this.#idle.push({ channel, timer: setTimeout(restingExpired, keepMs, channel) })
  }

  /** @internal `channel` is done resting (its time is up, or it spoke, ended or closed): close it. */
  drop(channel: Duplex): void {
    const at = this.#idle.findIndex((e) => e.channel === channel)
    if (at >= 0) this.#forget(this.#idle.splice(at, 1)[0]!)
    channel.destroy()
  }

  /** Close every idle channel (the connection is going away); channels offered later are closed too. */
  clear(): void {
    this.#closed = true
    for (const entry of this.#idle.splice(0)) {
      this.#forget(entry)
      entry.channel.destroy()
    }
  }

  #forget(entry: IdleEntry): void {
    clearTimeout(entry.timer)
    const channel = entry.channel as Resting
    channel.off('data', onRestingGone)
    channel.off('end', onRestingGone)
    channel.off('close', onRestingGone)
    channel.off('error', onRestingGone)
    channel[RESTING] = undefined
  }
}

// One listener and one timer callback for every resting channel; `this` is the channel (EventEmitter's rule).
function onRestingGone(this: Resting): void {
  const pool = this[RESTING]
  if (pool === undefined) this.destroy()
  else pool.drop(this)
}
function restingExpired(channel: Resting): void {
  onRestingGone.call(channel)
}

function usable(channel: Duplex): boolean {
  return !channel.destroyed && channel.readable && channel.writable && !channel.readableEnded && !channel.writableEnded
}
