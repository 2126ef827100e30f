import { Agent, type ClientRequestArgs } from 'node:http'
import type { Duplex } from 'node:stream'

/** Opens one SSH channel to the agent's local target. */
export type ChannelOpener = (callback: (err: Error | undefined, channel?: Duplex) => void) => void

/** Marks an error as "the channel could not be opened" (the local service refused, or the agent is gone). */
export class ChannelOpenError extends Error {
  override readonly name = 'ChannelOpenError'
}

/**
 * A node:http Agent whose "sockets" are SSH channels. Overriding `createConnection` on an Agent
 * subclass is the one way node:http runs over a custom stream on Bun, Deno and Node alike (the
 * `createConnection` request option is ignored on Bun and Deno).
 */
export class ChannelAgent extends Agent {
  readonly #open: ChannelOpener

  constructor(open: ChannelOpener) {
    super({ keepAlive: false })
    this.#open = open
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    this.#open((err, channel) => {
      if (err !== undefined || channel === undefined) {
        callback?.(new ChannelOpenError(err?.message ?? 'channel refused'), undefined as never)
        return
      }
      socketLike(channel)
      // Run node:http's socket setup outside ssh2's packet handler: an exception there would
      // otherwise unwind into the SSH parser and take the whole agent connection down.
      queueMicrotask(() => {
        try {
          callback?.(null, channel)
        } catch (err) {
          channel.destroy(err as Error)
        }
      })
    })
    return undefined
  }
}

type Patched = Duplex & {
  setTimeout?: (ms: number, cb?: () => void) => Duplex
  setNoDelay?: () => Duplex
  setKeepAlive?: () => Duplex
  ref?: () => Duplex
  unref?: () => Duplex
}

/**
 * Give an SSH channel the net.Socket methods node:http calls on its sockets. `setTimeout` is an
 * idle timer (reset by incoming data) that emits 'timeout' as a socket would.
 */
function socketLike(channel: Duplex): void {
  const ch = channel as Patched
  let timer: ReturnType<typeof setTimeout> | undefined
  let idleMs = 0
  const arm = () => {
    clearTimeout(timer)
    if (idleMs > 0) timer = setTimeout(() => ch.emit('timeout'), idleMs)
  }
  ch.setTimeout ??= (ms: number, cb?: () => void) => {
    idleMs = ms
    if (cb !== undefined) ch.once('timeout', cb)
    if (ms > 0) {
      ch.on('data', arm)
      arm()
    } else {
      clearTimeout(timer)
      ch.off('data', arm)
    }
    return ch
  }
  ch.once('close', () => clearTimeout(timer))
  ch.setNoDelay ??= () => ch
  ch.setKeepAlive ??= () => ch
  ch.ref ??= () => ch
  ch.unref ??= () => ch
}
