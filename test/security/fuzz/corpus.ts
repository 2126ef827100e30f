/**
 * Seeds for the fuzz: well-formed requests of every shape the gateway serves, and a real SSH
 * client's first flight (identification, KEXINIT, ECDH init, NEWKEYS, the first encrypted packets)
 * recorded against the gateway under test. Mutations of these reach deep into the parsers, where
 * random bytes would be refused on the first byte.
 */
import { randomBytes } from 'node:crypto'
import ssh2 from 'ssh2'
import WebSocket from 'ws'
import { SSH_ALGORITHMS } from '../../../src/transport/ssh-algorithms.ts'
import { WsDuplex } from '../../../src/transport/ws-duplex.ts'

export interface HttpSeedContext {
  readonly port: number
  readonly alice: string
}

/** Well-formed consumer requests: GET/POST/chunked/upgrade/Host routing/absolute-form/admin. */
export function httpSeeds(ctx: HttpSeedContext): Buffer[] {
  const host = `Host: 127.0.0.1:${ctx.port}\r\n`
  const auth = `Authorization: Bearer ${ctx.alice}\r\n`
  const key = randomBytes(16).toString('base64')
  return [
    `GET /t/alice/hello?x=1 HTTP/1.1\r\n${host}${auth}Accept: */*\r\n\r\n`,
    `GET /t/alice/echo-headers HTTP/1.1\r\n${host}${auth}X-Custom: a, b\r\nCookie: a=b\r\nConnection: keep-alive\r\n\r\n`,
    `POST /t/alice/post HTTP/1.1\r\n${host}${auth}Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world`,
    `POST /t/alice/chunked HTTP/1.1\r\n${host}${auth}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n`,
    `PUT /t/alice/put HTTP/1.1\r\n${host}${auth}Expect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd`,
    `GET /x/y HTTP/1.1\r\nHost: alice.burrow.test\r\n${auth}\r\n`,
    `GET http://127.0.0.1:${ctx.port}/t/alice/abs HTTP/1.1\r\n${host}${auth}\r\n`,
    `GET /t/alice/ws HTTP/1.1\r\n${host}${auth}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    `GET /tunnel HTTP/1.1\r\n${host}${auth}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    `HEAD /t/alice/head HTTP/1.1\r\n${host}${auth}\r\n`,
    `DELETE /t/alice/item/1 HTTP/1.1\r\n${host}${auth}Content-Length: 0\r\n\r\n`,
    `GET /healthz HTTP/1.1\r\n${host}\r\n`,
    `GET /admin/stats HTTP/1.1\r\n${host}Authorization: Bearer not-the-admin-token-0123\r\n\r\n`,
    `GET /t/alice/a%20b/%2Fc?q=%00 HTTP/1.0\r\n${host}${auth}\r\n`,
  ].map((s) => Buffer.from(s, 'latin1'))
}

/**
 * Record what a real SSH client sends to the gateway over /tunnel until it is authenticated and
 * has asked for its tunnel: the frames' payloads, in order.
 */
export async function recordSshFlight(port: number, token: string, user: string): Promise<Buffer[]> {
  const sent: Buffer[] = []
  const ws = new WebSocket(`ws://127.0.0.1:${port}/tunnel`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false })
  ws.binaryType = 'nodebuffer'
  const duplex = new WsDuplex({
    send: (bytes) => {
      sent.push(Buffer.from(bytes))
      ws.send(bytes, { binary: true })
    },
    close: (code, reason) => ws.close(code, reason),
    bufferedAmount: () => ws.bufferedAmount,
    terminate: () => ws.terminate(),
  })
  ws.on('message', (data: Buffer, isBinary: boolean) => isBinary && duplex.receive(data))
  ws.on('close', () => duplex.remoteClosed())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const client = new ssh2.Client()
  client.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => client.forwardIn('localhost', 80, () => resolve()))
    client.once('error', reject)
    client.connect({ sock: duplex as never, username: user, algorithms: SSH_ALGORITHMS })
  })
  client.end()
  ws.close()
  return sent
}
