/**
 * When an agent's open channels call for another connection. The gateway opens a channel per
 * request in flight and keeps a finished one open a few seconds for the next request
 * (proxy/channel-pool.ts), so open channels are the agent's view of its recent peak load; once
 * they reach BUSY_SHARE of what its live connections can carry, the gateway is about to queue.
 */
export const BUSY_SHARE = 0.8

/** Channels a connection carries when the gateway did not say (SSH_MAX_CHANNELS' default). */
export const DEFAULT_CHANNELS_PER_CONNECTION = 10

/**
 * True when `openChannels` over `connectionsUp` connections of `channelsPerConnection` each reach
 * the busy share: `needsAnother(8, 1, 10)` is true, `needsAnother(7, 1, 10)` false. False with no
 * connection up (the slots' own reconnect loops handle that).
 */
export function needsAnother(openChannels: number, connectionsUp: number, channelsPerConnection: number): boolean {
  return connectionsUp > 0 && openChannels >= BUSY_SHARE * connectionsUp * channelsPerConnection
}
