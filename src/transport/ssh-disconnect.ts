import type { Connection } from 'ssh2'

/** RFC 4253 §11.1 reason codes the gateway uses. */
export const DISCONNECT = { BY_APPLICATION: 11, TOO_MANY_CONNECTIONS: 12, NO_MORE_AUTH_METHODS_AVAILABLE: 14 } as const

const MSG_DISCONNECT = 1

/** The parts of ssh2's Protocol (1.17) that its own `disconnect()` uses to write the packet. */
interface ProtocolInternals {
  _packetRW: {
    write: {
      allocStartKEX: number
      alloc(size: number, force: boolean): Buffer
      finalize(packet: Buffer, force: boolean): Buffer
    }
  }
  _cipher: { encrypt(packet: Buffer): void } | undefined
}

function internalsOf(client: Connection): ProtocolInternals | undefined {
  const proto = (client as unknown as { _protocol?: Partial<ProtocolInternals> })._protocol
  const w = proto?._packetRW?.write
  if (w === undefined || typeof w.alloc !== 'function' || typeof w.finalize !== 'function') return undefined
  if (typeof w.allocStartKEX !== 'number' || typeof proto?._cipher?.encrypt !== 'function') return undefined
  return proto as ProtocolInternals
}

/**
 * Send SSH_MSG_DISCONNECT with a human-readable `description`, then end the socket.
 *
 * Why not `client.end()`: ssh2's `Protocol.disconnect(reason)` always sends an empty description,
 * and an empty description is all a refused OpenSSH user would see. OpenSSH prints a server's
 * DISCONNECT description at error level ("Received disconnect from … port 2222:12: user
 * connection limit (3)"), with or without -v, so this is the one place in the protocol where a
 * refusal reason reaches a stock client whatever it was doing: a `tcpip-forward` failure has no
 * text at all (RFC 4254 §4) and `ExitOnForwardFailure` exits on it before reading anything else;
 * a userauth banner would only fit refusals known at authentication time, and deciding the pool
 * limit there races with connections that register in between (the pool admits at
 * `tcpip-forward`, which is the authoritative moment).
 *
 * This writes the packet exactly as ssh2's own `disconnect()` does (same allocator, forced past a
 * key exchange in progress, same cipher), only with the description filled in. Those are ssh2
 * internals: if a future ssh2 renames them this falls back to `client.end()` (the peer is still
 * disconnected, without the text), and test/openssh/ pins the text end to end.
 * Returns whether the description could be sent.
 */
export function disconnectWithReason(client: Connection, description: string, code: number = DISCONNECT.BY_APPLICATION): boolean {
  const sock = (client as unknown as { _sock?: { writable?: boolean; end(): void } })._sock
  if (sock === undefined || sock.writable === false) return false
  const proto = internalsOf(client)
  if (proto === undefined) {
    client.end()
    return false
  }
  const desc = Buffer.from(description.slice(0, 400), 'utf8')
  const w = proto._packetRW.write
  let p = w.allocStartKEX
  // byte code, uint32 reason, string description, string language tag (empty)
  const packet = w.alloc(1 + 4 + 4 + desc.length + 4, true)
  packet[p] = MSG_DISCONNECT
  packet.writeUInt32BE(code, ++p)
  packet.writeUInt32BE(desc.length, (p += 4))
  packet.set(desc, (p += 4))
  packet.writeUInt32BE(0, p + desc.length)
  try {
    proto._cipher!.encrypt(w.finalize(packet, true))
  } catch {
    // The protocol is already torn down (socket closed meanwhile): nothing left to tell.
    return false
  }
  sock.end()
  return true
}
