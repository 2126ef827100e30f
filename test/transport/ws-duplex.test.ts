import { describe, expect, test } from 'bun:test'
import { type FrameSocket, WsDuplex } from '../../src/transport/ws-duplex.ts'

/** A frame socket whose queue the test controls: what a runtime's WebSocket reports. */
function fakeSocket() {
  const sent: Buffer[] = []
  const closes: { code: number; reason: string }[] = []
  const socket = {
    buffered: 0,
    sent,
    closes,
    send(data: Uint8Array) {
      sent.push(Buffer.from(data))
    },
    close(code: number, reason: string) {
      closes.push({ code, reason })
    },
    bufferedAmount() {
      return socket.buffered
    },
  }
  return socket satisfies FrameSocket & Record<string, unknown>
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0))
const write = (d: WsDuplex, bytes: Buffer) => new Promise<void>((resolve, reject) => d.write(bytes, (err) => (err ? reject(err) : resolve())))

describe('WsDuplex writes', () => {
  test('packets written in one turn leave as one frame, in order, and their writes complete at once', async () => {
    const socket = fakeSocket()
    const d = new WsDuplex(socket)
    const done = Promise.all([write(d, Buffer.from('a')), write(d, Buffer.from('bc')), write(d, Buffer.from('def'))])
    await done
    expect(socket.sent).toEqual([]) // sent once the turn's I/O is done, not per write
    await tick()
    expect(socket.sent.map((b) => b.toString())).toEqual(['abcdef'])
    d.destroy()
  })

  test('a queue the size of honest SSH windows (20 MiB of channel data) does not hold writes back', async () => {
    const socket = fakeSocket()
    const d = new WsDuplex(socket)
    socket.buffered = 20 * 1024 * 1024
    let completed = false
    d.write(Buffer.alloc(32 * 1024), () => (completed = true))
    await tick()
    expect(completed).toBe(true)
    expect(socket.sent).toHaveLength(1)
    d.destroy()
  })

  test('above the high-water mark, writes wait for the socket to drain and then go out in order', async () => {
    const socket = fakeSocket()
    const d = new WsDuplex(socket, { highWaterMark: 1000 })
    socket.buffered = 5000
    const order: string[] = []
    d.write(Buffer.from('1'), () => order.push('1'))
    d.write(Buffer.from('2'), () => order.push('2'))
    d.write(Buffer.from('3'), () => order.push('3'))
    await tick()
    // The first write went to the socket; the rest are held while the runtime reports 5000 queued.
    expect(Buffer.concat(socket.sent).toString()).toBe('1')
    expect(order).toEqual([])
    await new Promise((r) => setTimeout(r, 20))
    expect(order).toEqual([])
    socket.buffered = 0
    d.drained()
    const deadline = Date.now() + 2000
    while (order.length < 3 && Date.now() < deadline) await tick()
    expect(order).toEqual(['1', '2', '3'])
    expect(Buffer.concat(socket.sent).toString()).toBe('123')
    d.destroy()
  })

  test('a runtime that never signals a drain is polled: held writes resume once its queue empties', async () => {
    const socket = fakeSocket()
    const d = new WsDuplex(socket, { highWaterMark: 1000 })
    socket.buffered = 5000
    const held = write(d, Buffer.from('x')).then(() => write(d, Buffer.from('y')))
    await tick()
    setTimeout(() => (socket.buffered = 0), 10)
    await held
    await tick()
    expect(Buffer.concat(socket.sent).toString()).toBe('xy')
    d.destroy()
  })

  test('a peer that leaves more than maxQueuedBytes unread is closed with 1008 and a reason', async () => {
    const socket = fakeSocket()
    const told: number[] = []
    const d = new WsDuplex(socket, { highWaterMark: 1000, maxQueuedBytes: 64 * 1024, onPeerNotReading: (n) => told.push(n) })
    socket.buffered = 5000
    const closed = new Promise<void>((r) => d.once('close', () => r()))
    d.on('error', () => {})
    // ssh2 ignores backpressure and keeps writing: the bytes pile up in the stream.
    for (let i = 0; i < 100; i++) d.write(Buffer.alloc(1024))
    await closed
    expect(d.destroyed).toBe(true)
    expect(socket.closes).toHaveLength(1)
    expect(socket.closes[0]!.code).toBe(1008)
    expect(socket.closes[0]!.reason).toMatch(/^the peer is not reading: \d+ MiB unread$/)
    expect(told).toHaveLength(1)
    expect(told[0]).toBeGreaterThan(64 * 1024)
  })

  test('a congested but reading peer is not closed while under maxQueuedBytes', async () => {
    const socket = fakeSocket()
    const d = new WsDuplex(socket, { highWaterMark: 1000, maxQueuedBytes: 1024 * 1024 })
    socket.buffered = 5000
    for (let i = 0; i < 100; i++) d.write(Buffer.alloc(1024))
    await new Promise((r) => setTimeout(r, 30))
    expect(d.destroyed).toBe(false)
    socket.buffered = 0
    const deadline = Date.now() + 2000
    while (d.writableLength > 0 && Date.now() < deadline) await tick()
    expect(d.writableLength).toBe(0)
    expect(Buffer.concat(socket.sent).byteLength).toBe(100 * 1024)
    expect(socket.closes).toHaveLength(0)
    d.destroy()
  })
})
