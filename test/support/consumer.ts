/**
 * A consumer for the contract tests: one raw HTTP/1.1 request to a gateway on 127.0.0.1, with the
 * Host and every header field exactly as given, and the answer with its fields in wire order (so a
 * test can count Set-Cookie fields or see a Location untouched by any client library).
 */
import { rawRequest, type HeaderList } from './raw-http.ts'

export interface Answer {
  /** The final status, or 0 when no head arrived (`error` says why). */
  readonly status: number
  readonly headers: HeaderList
  readonly body: Buffer
  readonly error?: string
  /** The first field named `name` (case-insensitive), or undefined. */
  header(name: string): string | undefined
  /** Every field named `name`, in order. */
  all(name: string): string[]
  /** The body as UTF-8 text. */
  text(): string
  /** The gateway's JSON error code (`{"error":{"code"}}`), or undefined. */
  errorCode(): string | undefined
  /** The gateway's JSON error message, or undefined. */
  errorMessage(): string | undefined
}

export interface Ask {
  readonly port: number
  readonly target: string
  /** The Host field, sent first (e.g. `127.0.0.1:8080` or `alice.localhost:8080`). */
  readonly host: string
  readonly method?: string
  readonly headers?: HeaderList
  readonly body?: Uint8Array
}

/** Send one request; never rejects (a failure shows as status 0 with `error`). */
export async function ask(req: Ask): Promise<Answer> {
  const body = req.body
  const headers: [string, string][] = [['Host', req.host], ...(req.headers ?? []).map(([n, v]) => [n, v] as [string, string])]
  if (body !== undefined) headers.push(['Content-Length', String(body.length)])
  const r = await rawRequest({ port: req.port, method: req.method ?? 'GET', target: req.target, headers, body, timeoutMs: 20_000 })
  r.upgraded?.socket.destroy()
  const list = r.head?.headers ?? []
  const all = (name: string) => list.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v)
  const error = () => {
    try {
      return (JSON.parse(r.body.toString('utf8')) as { error?: { code?: string; message?: string } }).error
    } catch {
      return undefined
    }
  }
  return {
    status: r.head?.status ?? 0,
    headers: list,
    body: r.body,
    error: r.error,
    header: (name) => all(name)[0],
    all,
    text: () => r.body.toString('utf8'),
    errorCode: () => error()?.code,
    errorMessage: () => error()?.message,
  }
}

/** What the edge origin's `/echo-head` received: target and raw header fields in order. */
export interface Echoed {
  readonly method: string
  readonly target: string
  readonly headers: HeaderList
  /** Every received field named `name` (case-insensitive), values byte for byte. */
  all(name: string): string[]
}

/** Parse an `/echo-head` answer; throws (a test failure) when the body is not its JSON. */
export function echoed(answer: Answer): Echoed {
  return parseEcho(answer.text(), `${answer.status} ${answer.error ?? ''}`)
}

/** Parse the JSON of `/echo-head` (also the first message of `/ws-echo-head`); throws when it is not that. */
export function parseEcho(text: string, context = ''): Echoed {
  let parsed: { method: string; target: string; rawHeaders: string[] }
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`not an /echo-head answer: ${context} ${text.slice(0, 300)}`)
  }
  const headers: [string, string][] = []
  for (let i = 0; i < parsed.rawHeaders.length; i += 2) headers.push([parsed.rawHeaders[i]!, parsed.rawHeaders[i + 1]!])
  return {
    method: parsed.method,
    target: parsed.target,
    headers,
    all: (name) => headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v),
  }
}
