import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/** An SSH channel: `close()` sends CHANNEL_CLOSE without CHANNEL_EOF (ssh2's ClientChannel). */
type Channel = Duplex & { close?: () => void }

/**
 * Join a forwarded SSH channel and the local service's socket both ways. The service closing its
 * side ends the channel (EOF, then close); the service's socket failing (a reset) closes the
 * channel without EOF, so the gateway knows the body was cut, not finished (RFC 4254 §5.3: EOF
 * means no more data, CLOSE alone means the channel went away). The channel closing drops the socket.
 */
export function splice(socket: Socket, channel: Channel): void {
  socket.pipe(channel).pipe(socket)
  const reset = () => {
    socket.destroy()
    // ssh2's destroy() would send EOF first: a cut body would read as a finished one.
    if (typeof channel.close === 'function') channel.close()
    else channel.destroy()
  }
  socket.on('error', reset)
  socket.on('close', () => channel.end())
  channel.on('error', () => {
    socket.destroy()
    channel.destroy()
  })
  channel.on('close', () => socket.destroy())
}
