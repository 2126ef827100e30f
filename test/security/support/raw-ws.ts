/**
 * A WebSocket client on a raw node:net socket, for sending what a well-behaved client never would:
 * text frames, frames with a lying length, unmasked frames, bytes that are not frames at all.
 * It also reads the server's frames, so a test can see the close code and reason it was given.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { Duplex } from 'node:stream'

export interface Frame {
  readonly fin: boolean
  readonly opcode: number
  readonly payload: Buffer
}

export interface FrameOptions {
  readonly fin?: boolean
  /** RSV1-3 bits (0-7). */
  readonly rsv?: number
  /** Client frames must be masked (RFC 6455 §5.1); false sends one unmasked. */
  readonly mask?: boolean
  /** Claim this payload length in the header instead of the real one. */
  readonly declaredLength?: number
}

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const

/** Encode one frame. */
export function frame(opcode: number, payload: Buffer | Uint8Array | string, opts: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload)
  const len = opts.declaredLength ?? data.length
  const masked = opts.mask !== false
  const head: number[] = [((opts.fin === false ? 0 : 1) << 7) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)]
  const m = masked ? 0x80 : 0
  if (len < 126) head.push(m | len)
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff)
  else {
    head.push(m | 127)
    const big = Buffer.alloc(8)
    big.writeBigUInt64BE(BigInt(len))
    head.push(...big)
  }
  if (!masked) return Buffer.concat([Buffer.from(head), data])
  const key = randomBytes(4)
  const body = Buffer.from(data)
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!
  return Buffer.concat([Buffer.from(head), key, body])
}

/** Parse server frames (unmasked) from `buf`; returns the frames and the unparsed rest. */
export function parseFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = []
  let off = 0
  for (;;) {
    if (buf.length - off < 2) break
    const b0 = buf[off]!
    const b1 = buf[off + 1]!
    let len = b1 & 0x7f
    let p = off + 2
    if (len === 126) {
      if (buf.length - p < 2) break
      len = buf.readUInt16BE(p)
      p += 2
    } else if (len === 127) {
      if (buf.length - p < 8) break
      len = Number(buf.readBigUInt64BE(p))
      p += 8
    }
    if (b1 & 0x80) p += 4
    if (buf.length - p < len) break
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: buf.subarray(p, p + len) })
    off = p + len
  }
  return { frames, rest: buf.subarray(off) }
}

export interface RawWs {
  readonly socket: Socket
  /** The HTTP status line and headers of the upgrade answer. */
  readonly response: string
  readonly status: number
  /** Frames received so far. */
  readonly frames: Frame[]
  /** Resolves when the TCP connection has closed. */
  readonly closed: Promise<void>
  /** The close frame the server sent, once it has. */
  closeFrame(): { code: number; reason: string } | undefined
  send(bytes: Buffer): void
}

/**
 * Open a WebSocket to `path` with a raw upgrade request; resolves once the server answered the
 * upgrade (101 or a refusal). Errors are swallowed: a reset is one of the outcomes we look at.
 */
export function rawWebSocket(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  onFrame?: (f: Frame) => void,
  localAddress?: string,
): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress })
    socket.setNoDelay(true)
    socket.on('error', () => {})
    const frames: Frame[] = []
    let head = ''
    let pending = Buffer.alloc(0)
    let gotHead = false
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    )
    const ws: RawWs = {
      socket,
      get response() {
        return head
      },
      get status() {
        return Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      },
      frames,
      closed,
      closeFrame() {
        const f = frames.find((x) => x.opcode === OP.close)
        if (f === undefined) return undefined
        return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2).toString('utf8') }
      },
      send(bytes) {
        if (!socket.destroyed) socket.write(bytes)
      },
    }
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d])
      if (!gotHead) {
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) return
        gotHead = true
        head = pending.subarray(0, end).toString('latin1')
        pending = pending.subarray(end + 4)
        resolve(ws)
      }
      const parsed = parseFrames(pending)
      frames.push(...parsed.frames)
      if (onFrame !== undefined) for (const f of parsed.frames) onFrame(f)
      // Answer a close frame as any client would (RFC 6455 §5.5.1), so the server need not wait.
      if (parsed.frames.some((f) => f.opcode === OP.close) && !socket.destroyed) socket.end(frame(OP.close, Buffer.alloc(0)))
      pending = Buffer.from(parsed.rest)
    })
    socket.once('close', () => {
      if (!gotHead) resolve(Object.assign(ws, {}))
    })
    socket.once('connect', () => {})
    setTimeout(() => {
      if (!gotHead && !socket.destroyed) reject(new Error(`no upgrade answer from 127.0.0.1:${port}${path}`))
    }, 15_000).unref()
  })
}

/**
 * SSH over a raw WebSocket: a Duplex for ssh2's `sock` option whose writes go out as masked binary
 * frames. The TCP socket stays in the test's hands, so it can stop reading (`socket.pause()`).
 */
export async function rawWsDuplex(port: number, headers: Record<string, string>): Promise<{ ws: RawWs; duplex: Duplex }> {
  let ws: RawWs | undefined
  // Made first: the gateway's SSH identification can arrive with the upgrade answer.
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      ws?.send(frame(OP.binary, chunk))
      cb()
    },
  })
  ws = await rawWebSocket(port, '/tunnel', headers, (f) => {
    if (f.opcode === OP.binary) duplex.push(Buffer.from(f.payload))
  })
  ws.closed.then(() => duplex.destroy())
  return { ws, duplex }
}
