import type { IncomingMessage } from 'node:http'

/** Why the gateway refused a WebSocket upgrade: its status and the error message of its JSON body. */
export interface Refusal {
  readonly status: number
  /** The gateway's `error.message`, the raw body (first 300 bytes) if not JSON, or '' if none. */
  readonly detail: string
}

/**
 * Read a refused upgrade's answer (the `ws` client's 'unexpected-response'). A server that sends
 * a refusal without a body (a proxy in front, say) gives `detail` '': the status says it all.
 */
export function readRefusal(res: IncomingMessage, done: (refusal: Refusal) => void): void {
  const chunks: Buffer[] = []
  res.on('data', (c: Buffer) => chunks.push(c))
  res.on('end', () => {
    let detail = Buffer.concat(chunks).toString('utf8').slice(0, 300)
    try {
      detail = JSON.parse(detail).error.message ?? detail
    } catch {
      // Not the gateway's JSON: keep the text as it came.
    }
    done({ status: res.statusCode ?? 0, detail })
  })
  res.on('error', () => done({ status: res.statusCode ?? 0, detail: '' }))
}
