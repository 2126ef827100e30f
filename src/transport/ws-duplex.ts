import { Duplex } from 'node:stream'
import { WS_CLOSE } from './close-codes.ts'

/** The few things the duplex needs of a WebSocket, whichever side and runtime holds it. */
export interface FrameSocket {
  send(data: Uint8Array): void
  close(code: number, reason: string): void
  /** Bytes accepted by send() but not yet on the wire. */
  bufferedAmount(): number
  /** Cut the connection without a closing handshake (when the peer never answers ours). */
  terminate?(): void
}

/** A client WebSocket with the `ws` package's API (also what Bun's built-in `ws` offers). */
export interface WsClientLike {
  send(data: Uint8Array, options: { binary: boolean }): void
  close(code: number, reason: string): void
  readonly bufferedAmount: number
  terminate(): void
}

/** The frame socket of a `ws`-style client: what the agent (and test clients) hand to WsDuplex. */
export function wsClientFrames(ws: WsClientLike): FrameSocket {
  return {
    send: (bytes) => ws.send(bytes, { binary: true }),
    close: (code, reason) => ws.close(code, reason),
    bufferedAmount: () => ws.bufferedAmount,
    terminate: () => ws.terminate(),
  }
}

export interface WsDuplexOptions {
  readonly remoteAddress?: string
  readonly remotePort?: number
  /** Hold further writes while the socket has more than this many bytes queued (default 24 MiB). */
  readonly highWaterMark?: number
  /**
   * Writes gathered in one turn go out in frames of at most this many bytes (an SSH packet, ~32
   * KiB, is never split); default: one frame per turn. The agent sets 64 KiB: the gateway sees a
   * sign of life per complete message, and one gathered frame of a megabyte takes ten seconds on a
   * 100 KB/s uplink, longer than three keep-alive intervals (issue 14).
   */
  readonly maxFrameBytes?: number
  /**
   * Give up on a peer that leaves more than this many bytes unread, held and queued together
   * (default 64 MiB): close with 1008 instead of buffering without bound.
   */
  readonly maxQueuedBytes?: number
  /** Told just before the duplex gives up on a peer that is not reading (to log it). */
  readonly onPeerNotReading?: (unreadBytes: number) => void
  /** ms the peer gets to answer our close frame before the socket is cut (default 250). */
  readonly closeHandshakeMs?: number
}

// ssh2 ignores write()'s return value: what bounds an honest peer's bytes in flight is the SSH
// channel windows it granted (2 MiB per channel, 10 channels: about 20 MiB). Holding writes back
// below that only stalls the pipe (docs/STACK-FINDINGS.md has the figures), so the mark sits above
// it, where it only keeps a runtime's own buffer under its limit (Bun drops frames beyond
// `backpressureLimit`); the hard cap catches peers that grant windows and never read.
const DEFAULT_HIGH_WATER = 24 * 1024 * 1024
const DEFAULT_MAX_QUEUED = 64 * 1024 * 1024
// Not every runtime tells us when its send buffer drains (Deno, `ws`, Bun's client): poll then.
// Only congested connections poll, so the interval can be short.
const DRAIN_POLL_MS = 1
// A live peer answers a close frame within a round trip. A dead one (black-holed, frozen) never
// does, and Deno's server socket and `ws` (30 s) would keep the TCP connection open meanwhile.
const DEFAULT_CLOSE_HANDSHAKE_MS = 250

/**
 * A WebSocket adapted into a Node `Duplex`, once, so SSH never knows: binary frames in
 * are pushed as bytes, writes go out as binary frames. Frames arriving before a reader attaches
 * are buffered by the stream, not lost.
 */
export class WsDuplex extends Duplex {
  readonly remoteAddress: string | undefined
  readonly remotePort: number | undefined
  readonly remoteFamily: string | undefined
  #socket: FrameSocket
  #highWater: number
  readonly #maxFrame: number
  #maxQueued: number
  #onPeerNotReading: ((unreadBytes: number) => void) | undefined
  #pendingWrite: (() => void) | undefined
  #pollTimer: ReturnType<typeof setTimeout> | undefined
  #terminateTimer: ReturnType<typeof setTimeout> | undefined
  #closeHandshakeMs: number
  #remoteGone = false
  #out: Buffer[] = []
  #outBytes = 0
  #flushScheduled = false
  #closeCode: number = WS_CLOSE.normal
  #closeReason = ''
  #closed = false

  constructor(socket: FrameSocket, options: WsDuplexOptions = {}) {
    super({ allowHalfOpen: false, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 256 * 1024 })
    this.#socket = socket
    this.#highWater = options.highWaterMark ?? DEFAULT_HIGH_WATER
    this.#maxFrame = options.maxFrameBytes ?? Infinity
    this.#maxQueued = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED
    this.#onPeerNotReading = options.onPeerNotReading
    this.#closeHandshakeMs = options.closeHandshakeMs ?? DEFAULT_CLOSE_HANDSHAKE_MS
    this.remoteAddress = options.remoteAddress
    this.remotePort = options.remotePort
    this.remoteFamily = options.remoteAddress?.includes(':') ? 'IPv6' : 'IPv4'
  }

  /** Choose the close code and reason sent when the stream ends (e.g. 1008 with a refusal). */
  setCloseReason(code: number, reason: string): void {
    this.#closeCode = code
    this.#closeReason = reason
  }

  /** Feed one binary frame received from the peer. */
  receive(data: ArrayBuffer | ArrayBufferView): void {
    if (this.destroyed) return
    const bytes = data instanceof ArrayBuffer
      ? Buffer.from(data)
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    this.push(bytes)
  }

  /** The peer closed the WebSocket: end reading and tear down. */
  remoteClosed(): void {
    this.#closed = true
    this.#remoteGone = true
    clearTimeout(this.#terminateTimer)
    if (!this.destroyed) {
      this.push(null)
      this.destroy()
    }
  }

  /** The runtime says its send buffer drained. */
  drained(): void {
    const resume = this.#pendingWrite
    if (resume !== undefined && this.#socket.bufferedAmount() <= this.#highWater) {
      this.#pendingWrite = undefined
      resume()
    }
  }

  // Node's net.Socket API that ssh2 probes for; a WebSocket has no Nagle to turn off here.
  setNoDelay(): this {
    return this
  }
  setKeepAlive(): this {
    return this
  }
  setTimeout(): this {
    return this
  }
  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#closed) return callback(new Error('Cannot write: WebSocket closed'))
    // ssh2 writes each SSH packet on its own, several in one turn (a response's data, EOF and
    // CLOSE), and a busy gateway answers many consumers in one turn of I/O: gather them into one
    // frame once the turn's I/O callbacks are done (setImmediate, not a timer), which costs no
    // latency and saves CPU on both ends (docs/BENCHMARKS.md).
    this.#out.push(chunk)
    this.#outBytes += chunk.byteLength
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(this.#flush)
    }
    if (this.#socket.bufferedAmount() + this.#outBytes <= this.#highWater) return callback()
    this.#pendingWrite = () => callback()
    this.#poll()
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false
    const out = this.#out
    if (out.length === 0 || this.#closed) return
    this.#out = []
    this.#outBytes = 0
    try {
      // At most maxFrameBytes per frame (options).
      let start = 0
      let bytes = 0
      for (let i = 0; i < out.length; i++) {
        const size = out[i]!.byteLength
        if (i > start && bytes + size > this.#maxFrame) {
          this.#socket.send(i - start === 1 ? out[start]! : Buffer.concat(out.slice(start, i)))
          start = i
          bytes = 0
        }
        bytes += size
      }
      this.#socket.send(out.length - start === 1 ? out[start]! : Buffer.concat(start === 0 ? out : out.slice(start)))
    } catch (err) {
      this.destroy(err as Error)
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    // The last packets (e.g. an SSH DISCONNECT) must leave before the close frame.
    this.#flush()
    this.#closeSocket()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#flush()
    clearTimeout(this.#pollTimer)
    this.#pendingWrite = undefined
    this.#closeSocket()
    callback(error)
  }

  #poll(): void {
    clearTimeout(this.#pollTimer)
    this.#pollTimer = setTimeout(() => {
      if (this.#pendingWrite === undefined || this.destroyed) return
      this.drained()
      if (this.#pendingWrite === undefined) return
      // Writes held by the stream plus bytes queued in the runtime: a peer that granted windows
      // (or a peer at all) would have read by now.
      const queued = this.writableLength + this.#socket.bufferedAmount()
      if (queued > this.#maxQueued) {
        this.#onPeerNotReading?.(queued)
        this.setCloseReason(WS_CLOSE.policy, `the peer is not reading: ${Math.round(queued / 1048576)} MiB unread`)
        return void this.destroy()
      }
      this.#poll()
    }, DRAIN_POLL_MS)
  }

  #closeSocket(): void {
    if (this.#closed) return
    this.#closed = true
    try {
      this.#socket.close(this.#closeCode, this.#closeReason)
    } catch {
      // Already closing: nothing left to tell the peer.
    }
    const terminate = this.#socket.terminate
    if (terminate === undefined || this.#remoteGone) return
    this.#terminateTimer = setTimeout(() => {
      if (this.#remoteGone) return
      try {
        terminate.call(this.#socket)
      } catch {
        // Already gone.
      }
    }, this.#closeHandshakeMs)
  }
}
