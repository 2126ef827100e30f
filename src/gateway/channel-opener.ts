import type { ChannelOpener } from '../proxy/channel-agent.ts'
import type { LiveConn } from './live-conn.ts'

// RFC 4254 §5.1 reason codes of SSH_MSG_CHANNEL_OPEN_FAILURE.
const OPEN_FAILURE: Record<number, string> = {
  1: 'administratively prohibited',
  2: 'connect failed',
  3: 'unknown channel type',
  4: 'resource shortage',
}

/**
 * Opens `forwarded-tcpip` channels on `conn` for a consumer at `remote` (RFC 4254 §7.2: the
 * originator address is the consumer's). Every open channel is adopted by the connection (counted,
 * and ended if the connection goes). A refusal is explained: the agent's own description when it gave one (Burrow's agent
 * says which connect failed and why, OpenSSH says `connect failed: Connection refused`), else
 * the RFC 4254 reason.
 */
export function channelOpener(conn: LiveConn, remote: { address: string | undefined; port: number | undefined }): ChannelOpener {
  return (cb) => {
    const client = conn.client
    const fwd = conn.forward
    if (client === undefined || fwd === undefined || conn.goneReason !== undefined) return cb(new Error(conn.goneReason ?? 'the agent connection is closing'))
    try {
      client.forwardOut(fwd.bindAddr, fwd.bindPort, remote.address ?? '127.0.0.1', remote.port ?? 0, (err, channel) => {
        // A connection that went away while the open was pending fails it ('No response from server'): say why.
        if (err !== undefined && err !== null) return cb(new Error(conn.goneReason ?? openFailure(err)))
        conn.adopt(channel)
        cb(undefined, channel)
      })
    } catch (err) {
      cb(err as Error)
    }
  }
}

function openFailure(err: Error & { reason?: unknown }): string {
  const description = err.message.replace(/^\(SSH\) Channel open failure: ?/, '').trim()
  if (description !== '') return description
  const code = typeof err.reason === 'number' ? OPEN_FAILURE[err.reason] : undefined
  return code === undefined ? 'the agent refused the channel without a reason' : `${code} (no reason given)`
}
