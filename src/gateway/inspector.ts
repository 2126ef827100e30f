import { LRUCache } from 'lru-cache'
import { withoutQuerySecrets } from './query-secrets.ts'
import type { RequestRecord } from './request-record.ts'

/** Requests kept per tunnel. */
export const INSPECTOR_DEPTH = 100
/** Tunnels with a history; the least recently used one's is dropped past this. */
export const INSPECTOR_TUNNELS = 1000

/** One request as `GET /admin/tunnels/:tunnel/requests` shows it. Never a body, token, cookie or Authorization. */
export interface InspectedRequest {
  /** When it arrived (ISO 8601). */
  readonly time: string
  readonly requestId: string
  readonly method: string
  /** Origin-form target the service got, with credential-looking query parameters removed (query-secrets.ts). */
  readonly path: string
  /** Status the consumer got (0 while the request is still running: a stream, a WebSocket). */
  readonly status: number
  /** Burrow's error code when the gateway answered itself. */
  readonly error: string | null
  /** ms from arrival to the end of the body (so far, while it runs). */
  readonly durationMs: number
  /** ms from arrival to the response head. */
  readonly ttfbMs: number | null
  /** ms spent waiting for a free channel (null: it never got that far). */
  readonly queuedMs: number | null
  /** Response body bytes (from the tunnel) and request body bytes (into it). */
  readonly bytesIn: number
  readonly bytesOut: number
  /** The consumer's address (gateway/client-identity.ts: behind TRUSTED_PROXIES, the real client). */
  readonly client: string | null
  readonly streamed: boolean
  readonly websocket: boolean
  /** The agent connection that carried it. */
  readonly conn: string | null
  readonly running: boolean
}

/** A fixed ring of the last INSPECTOR_DEPTH records of one tunnel. */
class Ring {
  readonly slots: (RequestRecord | undefined)[] = new Array(INSPECTOR_DEPTH)
  next = 0
  size = 0
}

/**
 * The request inspector: the last 100 requests of each tunnel, in memory, bounded (100 per tunnel
 * for at most 1,000 tunnels; a record is a few hundred bytes). A request is put in when it
 * begins, so a running stream or WebSocket shows as running; what it shows is made when read.
 */
export class Inspector {
  readonly #rings = new LRUCache<string, Ring>({ max: INSPECTOR_TUNNELS })

  /** Keep `record` as the newest request of its tunnel. */
  add(record: RequestRecord): void {
    let ring = this.#rings.get(record.tunnel)
    if (ring === undefined) this.#rings.set(record.tunnel, (ring = new Ring()))
    ring.slots[ring.next] = record
    ring.next = (ring.next + 1) % INSPECTOR_DEPTH
    if (ring.size < INSPECTOR_DEPTH) ring.size++
  }

  /** The tunnel's last requests, newest first; [] for a tunnel with no history. */
  list(tunnel: string, now: number = performance.now()): InspectedRequest[] {
    const ring = this.#rings.peek(tunnel)
    if (ring === undefined) return []
    const out: InspectedRequest[] = []
    for (let k = 1; k <= ring.size; k++) {
      const r = ring.slots[(ring.next - k + INSPECTOR_DEPTH) % INSPECTOR_DEPTH]!
      out.push(view(r, now))
    }
    return out
  }

  /** Tunnels with a history, most recently used first. */
  tunnels(): string[] {
    return [...this.#rings.keys()]
  }
}

function view(r: RequestRecord, now: number): InspectedRequest {
  const running = !r.ended
  return {
    time: new Date(r.startedAt).toISOString(),
    requestId: r.id,
    method: r.method,
    path: withoutQuerySecrets(r.target),
    status: r.status,
    error: r.error ?? null,
    durationMs: round(running ? now - r.t0 : r.durationMs),
    ttfbMs: r.ttfbMs === undefined ? null : round(r.ttfbMs),
    queuedMs: r.queuedMs === undefined ? null : round(r.queuedMs),
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    client: r.client ?? null,
    streamed: r.streamed,
    websocket: r.websocket,
    conn: r.conn ?? null,
    running,
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100
