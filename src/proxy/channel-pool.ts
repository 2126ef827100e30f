import type { Duplex } from 'node:stream'
import type { ChannelOpener } from './channel-agent.ts'

// An idle kept-alive channel is dropped after this long. Below Node's default server
// keepAliveTimeout (5 s), so we usually let go before the local service does, which keeps the
// "service closed it just as we reused it" race rare (the exchange retries once when it happens).
const IDLE_MS = 4_000
// A channel is let go this long before the service's announced keep-alive timeout runs out.
const SERVICE_MARGIN_MS = 1_000

interface IdleEntry {
  readonly channel: Duplex
  readonly timer: ReturnType<typeof setTimeout>
  readonly onGone: () => void
}

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

  /** An idle channel if one is there, else a fresh one from `open`. */
  acquire(allowReuse: boolean, open: ChannelOpener): Promise<{ channel: Duplex; reused: boolean }> {
    const idle = allowReuse ? this.take() : undefined
    if (idle !== undefined) return Promise.resolve({ channel: idle, reused: true })
    return new Promise((resolve, reject) => open((err, channel) => (err !== undefined || channel === undefined ? reject(err ?? new Error('channel refused')) : resolve({ channel, reused: false }))))
  }

  /**
   * Keep `channel` for the next request, at most `serviceKeepsMs` (what the service said it keeps an
   * idle connection, `Keep-Alive: timeout=N`) less a second, so the gateway lets go first.
   */
  recycle(channel: Duplex, serviceKeepsMs?: number): void {
    const keepMs = serviceKeepsMs === undefined ? this.#idleMs : Math.min(this.#idleMs, serviceKeepsMs - SERVICE_MARGIN_MS)
    if (this.#closed || !usable(channel) || keepMs <= 0) return void channel.destroy()
    const onGone = () => {
      const at = this.#idle.indexOf(entry)
      if (at >= 0) {
        this.#idle.splice(at, 1)
        this.#forget(entry)
      }
      channel.destroy()
    }
    const entry: IdleEntry = { channel, timer: setTimeout(onGone, keepMs), onGone }
    // While idle, any byte, EOF or close means the channel cannot carry another exchange.
    channel.on('data', onGone)
    channel.once('end', onGone)
    channel.once('close', onGone)
    channel.once('error', onGone)
    this.#idle.push(entry)
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
    entry.channel.off('data', entry.onGone)
    entry.channel.off('end', entry.onGone)
    entry.channel.off('close', entry.onGone)
    entry.channel.off('error', entry.onGone)
  }
}

function usable(channel: Duplex): boolean {
  return !channel.destroyed && channel.readable && channel.writable && !channel.readableEnded && !channel.writableEnded
}
