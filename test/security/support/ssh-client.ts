/**
 * ssh2 clients that attack the gateway's SSH surface the way a custom client could (OpenSSH asks
 * only for what its flags say): over the /tunnel WebSocket with a bearer token, or over SSH_PORT.
 */
import ssh2, { type Algorithms, type Client, type ConnectConfig } from 'ssh2'
import WebSocket from 'ws'
import { SSH_ALGORITHMS } from '../../../src/transport/ssh-algorithms.ts'
import { WsDuplex, wsClientFrames } from '../../../src/transport/ws-duplex.ts'

export interface SshSession {
  readonly client: Client
  /** The close reason the gateway gave on the WebSocket ('' over TCP). */
  closeReason(): string
  /** Resolves when the SSH session has closed. */
  readonly closed: Promise<void>
}

export interface SshOptions {
  readonly username: string
  readonly password?: string
  readonly algorithms?: Algorithms
  readonly keepaliveInterval?: number
}

function connect(client: Client, config: ConnectConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve())
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before ready')))
    // strictVendor off: send OpenSSH extensions (streamlocal) to a server that is not OpenSSH.
    client.connect({ readyTimeout: 10_000, algorithms: SSH_ALGORITHMS, strictVendor: false, ...config })
  })
}

/** SSH over `ws://127.0.0.1:<port>/tunnel` with `token`; resolves once authenticated. */
export async function sshOverWebSocket(port: number, token: string, opts: SshOptions): Promise<SshSession> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/tunnel`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false })
  ws.binaryType = 'nodebuffer'
  const duplex = new WsDuplex(wsClientFrames(ws))
  let reason = ''
  ws.on('message', (data: Buffer, isBinary: boolean) => isBinary && duplex.receive(data))
  ws.on('close', (_code: number, why: Buffer) => {
    reason = why.toString('utf8')
    duplex.remoteClosed()
  })
  ws.on('error', () => duplex.destroy())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
  })
  const client = new ssh2.Client()
  const closed = new Promise<void>((r) => client.once('close', () => r()))
  client.on('error', () => {})
  await connect(client, {
    sock: duplex as never,
    username: opts.username,
    ...(opts.algorithms !== undefined ? { algorithms: opts.algorithms } : {}),
    ...(opts.keepaliveInterval !== undefined ? { keepaliveInterval: opts.keepaliveInterval } : {}),
  })
  return { client, closeReason: () => reason, closed }
}

/** SSH over TCP to SSH_PORT with a password (a token); resolves once authenticated. */
export async function sshOverTcp(port: number, opts: SshOptions): Promise<SshSession> {
  const client = new ssh2.Client()
  const closed = new Promise<void>((r) => client.once('close', () => r()))
  client.on('error', () => {})
  await connect(client, {
    host: '127.0.0.1',
    port,
    username: opts.username,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.algorithms !== undefined ? { algorithms: opts.algorithms } : {}),
  })
  return { client, closeReason: () => '', closed }
}

/** Run `fn` and report whether the gateway refused (an error, or a false/failed callback). */
export function refused(fn: (cb: (err: unknown) => void) => void, ms = 5_000): Promise<'refused' | 'accepted' | 'no answer'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('no answer'), ms)
    try {
      fn((err) => {
        clearTimeout(timer)
        resolve(err ? 'refused' : 'accepted')
      })
    } catch {
      clearTimeout(timer)
      resolve('refused')
    }
  })
}
