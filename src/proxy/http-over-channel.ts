import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { ChannelAgent, ChannelOpenError, type ChannelOpener } from './channel-agent.ts'
import { responseHeadersForConsumer } from './headers.ts'

export interface UpstreamRequest {
  readonly method: string
  /** Origin-form target for the local service, e.g. `/v1/chat?x=1`. */
  readonly path: string
  /** Flat [name, value, ...] list, already filtered for the next hop. */
  readonly headers: readonly string[]
  readonly body: ReadableStream<Uint8Array> | null
}

export interface UpstreamTimeouts {
  /** ms until the response head must have arrived (504 after). */
  readonly head: number
  /** ms of silence allowed inside a streaming response body (0 = unlimited). */
  readonly idle: number
}

/** How the exchange ended, reported once (to free the channel slot and count bytes). */
export interface ExchangeEnd {
  readonly ok: boolean
  readonly bytesIn: number
  readonly bytesOut: number
}

export type UpstreamResult =
  | { readonly ok: true; readonly response: Response }
  | { readonly ok: false; readonly code: 'upstream_unreachable' | 'upstream_timeout'; readonly message: string }

const NO_BODY_STATUS = new Set([204, 205, 304])

function toHeaderObject(flat: readonly string[]): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!
    const value = flat[i + 1]!
    const prior = out[name]
    out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value]
  }
  return out
}

/**
 * Send one HTTP/1.1 exchange over a fresh SSH channel and stream the response back as a web
 * `Response`: nothing is buffered whole, each chunk is handed on as it arrives, and a response cut
 * short by the agent errors the consumer's stream instead of passing for complete.
 */
export function exchangeOverChannel(
  open: ChannelOpener,
  req: UpstreamRequest,
  timeouts: UpstreamTimeouts,
  onEnd: (end: ExchangeEnd) => void,
): Promise<UpstreamResult> {
  return new Promise<UpstreamResult>((resolve) => {
    let ended = false
    let bytesIn = 0
    let bytesOut = 0
    const finish = (ok: boolean) => {
      if (ended) return
      ended = true
      clearTimeout(headTimer)
      clearTimeout(idleTimer)
      onEnd({ ok, bytesIn, bytesOut })
    }
    let idleTimer: ReturnType<typeof setTimeout> | undefined
    let headTimer: ReturnType<typeof setTimeout> | undefined
    let responded = false

    const creq = httpRequest({
      method: req.method,
      path: req.path,
      headers: toHeaderObject(req.headers),
      agent: new ChannelAgent(open),
      setHost: false,
    })
    headTimer = setTimeout(() => {
      if (responded) return
      resolve({ ok: false, code: 'upstream_timeout', message: `no response head from the local service within ${timeouts.head} ms` })
      creq.destroy()
      finish(false)
    }, timeouts.head)

    creq.on('error', (err: Error) => {
      if (responded) return
      responded = true
      const refused = err instanceof ChannelOpenError
      resolve({
        ok: false,
        code: 'upstream_unreachable',
        message: refused ? `the agent could not reach its local service (${err.message})` : `the tunnel failed before a response (${err.message})`,
      })
      finish(false)
    })

    creq.on('response', (res: IncomingMessage) => {
      responded = true
      clearTimeout(headTimer)
      const status = res.statusCode ?? 502
      const headers = responseHeadersForConsumer(res.rawHeaders)
      if (NO_BODY_STATUS.has(status) || req.method === 'HEAD') {
        res.resume()
        res.on('end', () => finish(true))
        res.on('close', () => finish(res.complete))
        resolve({ ok: true, response: new Response(null, { status, statusText: res.statusMessage, headers }) })
        return
      }
      const armIdle = (ctrl: ReadableStreamDefaultController<Uint8Array>) => {
        if (timeouts.idle <= 0) return
        clearTimeout(idleTimer)
        idleTimer = setTimeout(() => {
          ctrl.error(new Error(`local service silent for ${timeouts.idle} ms`))
          res.destroy()
          finish(false)
        }, timeouts.idle)
      }
      const body = new ReadableStream<Uint8Array>(
        {
          start(ctrl) {
            armIdle(ctrl)
            res.on('data', (chunk: Buffer) => {
              bytesIn += chunk.byteLength
              armIdle(ctrl)
              ctrl.enqueue(chunk)
              if ((ctrl.desiredSize ?? 1) <= 0) res.pause()
            })
            res.on('end', () => {
              if (ended) return
              ctrl.close()
              finish(true)
            })
            res.on('close', () => {
              if (ended) return
              if (!res.complete) {
                // The agent or the local service dropped mid-response: error the stream so the
                // consumer's connection is aborted rather than a short body looking complete.
                ctrl.error(new Error('the tunnel closed before the response was complete'))
                finish(false)
              }
            })
          },
          pull() {
            if (res.isPaused()) res.resume()
          },
          cancel() {
            res.destroy()
            finish(false)
          },
        },
        { highWaterMark: 8 },
      )
      resolve({ ok: true, response: new Response(body, { status, statusText: res.statusMessage, headers }) })
    })

    if (req.body === null) {
      creq.end()
    } else {
      pumpBody(req.body, creq, (n) => (bytesOut += n)).catch((err: Error) => creq.destroy(err))
    }
  })
}

/** Copy the consumer's body into the upstream request, waiting on 'drain' (backpressure). */
async function pumpBody(body: ReadableStream<Uint8Array>, creq: ReturnType<typeof httpRequest>, count: (n: number) => void): Promise<void> {
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      count(value.byteLength)
      if (!creq.write(value)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            creq.off('close', onClose)
            resolve()
          }
          const onClose = () => {
            creq.off('drain', onDrain)
            reject(new Error('upstream closed while sending the body'))
          }
          creq.once('drain', onDrain)
          creq.once('close', onClose)
        })
      }
    }
    creq.end()
  } finally {
    reader.releaseLock()
  }
}
