import { describe, expect, test } from 'bun:test'
import { Duplex } from 'node:stream'
import { ChannelPool } from '../../src/proxy/channel-pool.ts'
import { exchange, type ExchangeEnd } from '../../src/proxy/exchange.ts'

describe('exchange() when the consumer goes away', () => {
  test('a small body whose read fails ends the exchange with onEnd called once, and opens no channel', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        ctrl.enqueue(new Uint8Array(10))
        ctrl.error(new Error('The connection was closed.'))
      },
    })
    let opened = 0
    const ends: ExchangeEnd[] = []
    const open = (cb: (err: Error | undefined, ch?: Duplex) => void) => {
      opened++
      cb(new Error('not expected'))
    }
    const result = await exchange(new ChannelPool(), open, { method: 'POST', path: '/x', headers: ['content-length', '1000'], body }, { timeouts: { head: 1000, idle: 1000 } }, (e) => ends.push(e))
    expect(result).toMatchObject({ ok: false, code: 'upstream_unreachable' })
    expect(ends).toEqual([{ ok: false, bytesIn: 0, bytesOut: 0 }])
    expect(opened).toBe(0)
  })
})
