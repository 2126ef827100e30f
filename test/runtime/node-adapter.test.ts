import { describe, expect, test } from 'bun:test'
import { EventEmitter } from 'node:events'
import { Hono } from 'hono'
import { createNodeAdapter } from '../../src/runtime/node.ts'

describe('Node adapter: binary frames bypass @hono/node-ws', () => {
  test('after onOpen, binary frames reach onBinary uncopied and only there; text frames still reach the helper', async () => {
    const adapter = createNodeAdapter(() => new Hono())
    // A `ws` socket as @hono/node-ws holds it: its buffering listener during onOpen, then (right
    // after onOpen returns, synchronously) its own handler, which copies and wraps every frame.
    const raw = new EventEmitter()
    const buffering = () => {}
    raw.on('message', buffering)
    const helperGot: [unknown, boolean][] = []
    const binary: Uint8Array[] = []
    adapter.takeBinaryFrames!(raw, (data) => binary.push(data))
    raw.off('message', buffering)
    raw.on('message', (data: unknown, isBinary: boolean) => helperGot.push([data, isBinary]))
    await Promise.resolve()
    const frame = Buffer.from([1, 2, 3])
    raw.emit('message', frame, true)
    raw.emit('message', Buffer.from('hello'), false)
    raw.emit('message', Buffer.from([4]), true)
    expect(binary).toHaveLength(2)
    expect(binary[0]).toBe(frame)
    expect(helperGot.map(([d, b]) => [String(d), b])).toEqual([['hello', false]])
    expect(raw.listenerCount('message')).toBe(1)
  })
})
