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
      callback?.(null, channel)
    })
    return undefined
  }
}
