import type { Readable, Writable } from 'node:stream'
import WebSocket from 'ws'
import { proxyAgent } from './proxy.ts'
import { readRefusal } from './refused-upgrade.ts'
import { describeTlsFailure } from './tls-trust.ts'

export interface WsStdioOptions {
  /** The gateway's `/tunnel` WebSocket URL (see `tunnelUrl`). */
  readonly url: string
  readonly token: string
  /** PEM certificates to trust for a wss gateway instead of the system's store (`--ca`). */
  readonly ca?: string | undefined
  /** HTTP CONNECT proxy to dial through (`http://[user:pass@]host:port`; proxy.ts), or none. */
  readonly proxy?: string | undefined
  /** Bytes to send (the SSH client's output: our stdin). */
  readonly input: Readable
  /** Bytes received (to the SSH client: our stdout). */
  readonly output: Writable
}

/** How the bridge ended: `ok` when either side closed normally; `message` says why it closed, if known. */
export interface WsStdioResult {
  readonly ok: boolean
  readonly message?: string
}

// Stop reading stdin while this much is queued on the WebSocket; resume once it drains.
const HIGH_WATER = 1024 * 1024

/**
 * Bridge a byte stream pair to the gateway's `/tunnel` WebSocket, one binary frame per chunk:
 * OpenSSH's `ProxyCommand` for HTTP-only networks. Ends when either side closes; a refused
 * token, an unreachable gateway or a close with a reason (e.g. `user connection limit (3)`)
 * comes back as a message for stderr, which ssh shows its user.
 */
export function bridgeWsStdio(o: WsStdioOptions): Promise<WsStdioResult> {
  return new Promise<WsStdioResult>((resolve) => {
    let settled = false
    let inputEnded = false
    let refused = false
    const finish = (result: WsStdioResult) => {
      if (settled) return
      settled = true
      o.input.off('data', onInput)
      o.input.pause()
      // Let what ssh still has to read reach it before the caller exits.
      o.output.write('', () => resolve(result))
    }
    const ws = new WebSocket(o.url, {
      headers: { authorization: `Bearer ${o.token}` },
      perMessageDeflate: false,
      handshakeTimeout: 20_000,
      ...(o.ca === undefined ? {} : { ca: o.ca }),
      ...(o.proxy === undefined ? {} : { agent: proxyAgent(o.proxy) }),
    })
    ws.binaryType = 'nodebuffer'
    // Listen before 'open': the gateway's SSH ident can arrive in the same tick.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return
      if (!o.output.write(data)) {
        // ssh is not reading: stop reading the socket, so TCP tells the gateway to slow down.
        ws.pause()
        o.output.once('drain', () => ws.resume())
      }
    })
    ws.on('unexpected-response', (_req, res) => {
      refused = true
      readRefusal(res, ({ status, detail }) => {
        const what = status === 401 || status === 403 ? 'rejected the token' : 'refused the WebSocket'
        finish({ ok: false, message: `the gateway ${what} (${status}): ${detail}` })
      })
    })
    ws.on('error', (err: Error) => finish({ ok: false, message: describeTlsFailure(err, o.url, o.ca !== undefined) ?? `cannot reach ${o.url}: ${err.message}` }))
    ws.on('close', (code: number, reason: Buffer) => {
      // A refused upgrade is reported with its body by 'unexpected-response'.
      if (refused) return
      const why = reason.toString('utf8')
      const message = `the gateway closed the tunnel (${code})${why ? ': ' + why : ''}`
      // 1000/1005 (no status) or our own close after stdin ended: a normal end.
      const normal = code === 1000 || code === 1005
      if (inputEnded) finish({ ok: true })
      else finish(normal && why === '' ? { ok: true } : { ok: normal, message })
    })

    const onInput = (chunk: Buffer) => {
      ws.send(chunk, { binary: true }, () => {
        if (o.input.isPaused() && !settled && ws.bufferedAmount < HIGH_WATER / 2) o.input.resume()
      })
      if (ws.bufferedAmount > HIGH_WATER) o.input.pause()
    }
    ws.on('open', () => {
      o.input.on('data', onInput)
      o.input.once('end', () => {
        inputEnded = true
        ws.close(1000, 'stdin closed')
      })
      o.input.resume()
    })
  })
}
