/**
 * A WebSocket client for the differential tests that shows the handshake as it came: the 101 (or
 * the refusal) through `rawRequest`, then frames read and written with the `ws` package's own
 * Receiver and Sender over the same socket.
 */
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { rawRequest, type HeaderList, type RawResponse } from './raw-http.ts'

// By path: Bun maps the bare `ws` specifier to its built-in WebSocket, which has no Receiver/Sender.
const require = createRequire(import.meta.url)
const wsLib = dirname(require.resolve('ws/package.json'))
const Receiver = require(join(wsLib, 'lib/receiver.js')) as new (opts: { isServer: boolean }) => NodeJS.WritableStream & {
  on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void
}
const Sender = require(join(wsLib, 'lib/sender.js')) as { frame(data: Buffer, opts: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[] }

export interface WebSocketProbe {
  /** The handshake's answer: a 101 with `upgraded`, or the refusal with its body. */
  readonly response: RawResponse
  /** Text messages received, in order (a greeting the service sends on its own comes first). */
  readonly messages: readonly string[]
}

/**
 * Open a WebSocket at `target` offering `protocols`, send `send` (if given) right after the
 * handshake, collect `expect` text messages or what came within `timeoutMs`, then close. Never
 * rejects: a missing message shows as a shorter `messages`.
 */
export async function probeWebSocket(opts: {
  readonly port: number
  readonly target: string
  readonly host: string
  readonly headers: HeaderList
  readonly protocols: readonly string[]
  readonly send?: string
  readonly expect: number
  readonly timeoutMs?: number
}): Promise<WebSocketProbe> {
  const headers: (readonly [string, string])[] = [
    ['Host', opts.host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', randomBytes(16).toString('base64')],
    ['Sec-WebSocket-Version', '13'],
    ...(opts.protocols.length > 0 ? [['Sec-WebSocket-Protocol', opts.protocols.join(', ')] as [string, string]] : []),
    ...opts.headers,
  ]
  const response = await rawRequest({ port: opts.port, method: 'GET', target: opts.target, headers, timeoutMs: opts.timeoutMs })
  if (response.upgraded === undefined) return { response, messages: [] }
  const { socket, rest } = response.upgraded
  const messages: string[] = []
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, opts.timeoutMs ?? 10_000)
    const receiver = new Receiver({ isServer: false })
    receiver.on('message', (data, isBinary) => {
      messages.push(isBinary ? `<binary ${data.length} bytes>` : data.toString('utf8'))
      if (messages.length >= opts.expect) {
        clearTimeout(timer)
        resolve()
      }
    })
    socket.on('error', () => resolve())
    socket.on('close', () => resolve())
    if (rest.length > 0) receiver.write(rest)
    socket.pipe(receiver)
    if (opts.send !== undefined) {
      for (const part of Sender.frame(Buffer.from(opts.send), { fin: true, mask: true, opcode: 1, readOnly: false, rsv1: false })) socket.write(part)
    }
  })
  socket.destroy()
  return { response, messages }
}
