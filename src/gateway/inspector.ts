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

/**
 * One place of a tunnel's ring. While its request runs it points at the live record (a running
 * stream shows its bytes so far); when the request ends, the few fields shown are copied in as
 * plain numbers and strings and the record is let go. So a record lives as long as its request,
 * not for the next 100 requests of its tunnel (records kept that long survive the young-generation
 * collections they would otherwise die in).
 */
export class InspectorSlot {
  live: RequestRecord | undefined = undefined
  startedAt = 0
  id = ''
  method = ''
  target = ''
  client: string | undefined = undefined
  status = 0
  error: string | undefined = undefined
  durationMs = 0
  ttfbMs: number | undefined = undefined
  queuedMs: number | undefined = undefined
  bytesIn = 0
  bytesOut = 0
  streamed = false
  websocket = false
  conn: string | undefined = undefined
}

/** A fixed ring of the last INSPECTOR_DEPTH requests of one tunnel, its slots allocated once. */
class Ring {
  readonly slots: InspectorSlot[] = Array.from({ length: INSPECTOR_DEPTH }, () => new InspectorSlot())
  next = 0
  size = 0
}

/**
 * The request inspector: the last 100 requests of each tunnel, in memory, bounded (100 slots per
 * tunnel for at most 1,000 tunnels; a slot is a few hundred bytes). A request takes its slot when it
 * begins, so a running stream or WebSocket shows as running; what it shows is made when read.
 */
export class Inspector {
  readonly #rings = new LRUCache<string, Ring>({ max: INSPECTOR_TUNNELS })

  /** Keep `record` as the newest request of its tunnel; returns its slot (for `end`). */
  add(record: RequestRecord): InspectorSlot {
    let ring = this.#rings.get(record.tunnel)
    if (ring === undefined) this.#rings.set(record.tunnel, (ring = new Ring()))
    const slot = ring.slots[ring.next]!
    slot.live = record
    ring.next = (ring.next + 1) % INSPECTOR_DEPTH
    if (ring.size < INSPECTOR_DEPTH) ring.size++
    return slot
  }

  /** `record` ended: its slot (if 100 newer requests have not taken it meanwhile) keeps a copy, not the record. */
  end(record: RequestRecord, slot: InspectorSlot): void {
    if (slot.live !== record) return
    slot.live = undefined
    slot.startedAt = record.startedAt
    slot.id = record.id
    slot.method = record.method
    slot.target = record.target
    slot.client = record.client
    slot.status = record.status
    slot.error = record.error
    slot.durationMs = record.durationMs
    slot.ttfbMs = record.ttfbMs
    slot.queuedMs = record.queuedMs
    slot.bytesIn = record.bytesIn
    slot.bytesOut = record.bytesOut
    slot.streamed = record.streamed
    slot.websocket = record.websocket
    slot.conn = record.conn
  }

  /** The tunnel's last requests, newest first; [] for a tunnel with no history. */
  list(tunnel: string, now: number = performance.now()): InspectedRequest[] {
    const ring = this.#rings.peek(tunnel)
    if (ring === undefined) return []
    const out: InspectedRequest[] = []
    for (let k = 1; k <= ring.size; k++) {
      const slot = ring.slots[(ring.next - k + INSPECTOR_DEPTH) % INSPECTOR_DEPTH]!
      out.push(slot.live === undefined ? view(slot, false, slot.durationMs) : view(slot.live, true, now - slot.live.t0))
    }
    return out
  }

  /** Tunnels with a history, most recently used first. */
  tunnels(): string[] {
    return [...this.#rings.keys()]
  }
}

/** The fields shown, from a running record or an ended request's slot. */
type Shown = Pick<InspectorSlot, 'startedAt' | 'id' | 'method' | 'target' | 'client' | 'status' | 'error' | 'ttfbMs' | 'queuedMs' | 'bytesIn' | 'bytesOut' | 'streamed' | 'websocket' | 'conn'>

function view(r: Shown, running: boolean, durationMs: number): InspectedRequest {
  return {
    time: new Date(r.startedAt).toISOString(),
    requestId: r.id,
    method: r.method,
    path: withoutQuerySecrets(r.target),
    status: r.status,
    error: r.error ?? null,
    durationMs: round(durationMs),
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
