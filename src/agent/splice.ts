import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/**
 * Join a forwarded SSH channel and the local service's socket both ways. An error on either
 * side destroys both; the service closing ends the channel; the channel closing drops the socket.
 */
export function splice(socket: Socket, channel: Duplex): void {
  socket.pipe(channel).pipe(socket)
  const done = () => {
    socket.destroy()
    channel.destroy()
  }
  socket.on('error', done)
  socket.on('close', () => channel.end())
  channel.on('error', done)
  channel.on('close', () => socket.destroy())
}
