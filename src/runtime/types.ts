import type { Context, Hono } from 'hono'
import type { WSEvents } from 'hono/ws'

export type RuntimeName = 'bun' | 'deno' | 'node'

/** A listening HTTP server, whatever the runtime. */
export interface ServeHandle {
  readonly port: number
  readonly hostname: string
  /** Stop accepting; with `force`, also cut open connections. */
  close(force?: boolean): Promise<void>
}

/**
 * A local service's response as an adapter relays it to the consumer (the proxy's
 * UpstreamResponse): fields as a flat `[name, value, …]` list of lower-case names and latin1 byte
 * strings, informational responses that came first, and the trailers of a chunked body.
 */
export interface RelayedResponse {
  readonly status: number
  readonly statusText: string
  readonly headers: readonly string[]
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null
  readonly interim: readonly { readonly status: number; readonly headers: readonly string[] }[]
  readonly trailers: Promise<readonly string[]>
}

export interface ServeOptions {
  readonly port: number
  readonly hostname: string
  /**
   * ms a client has to send a complete request head before its connection is cut (slowloris).
   * Node applies it; Bun has a fixed limit of its own (about 10 s) and Deno.serve has none.
   */
  readonly headersTimeoutMs?: number
  /**
   * Serve HTTPS (and WSS) with this certificate chain and private key, both PEM text. Bun.serve
   * `tls`, Deno.serve `cert`/`key`, Node `https.createServer`. Absent: plain HTTP.
   */
  readonly tls?: TlsFiles | undefined
}

/** A PEM certificate chain (leaf first) and its PEM private key, as text. */
export interface TlsFiles {
  readonly cert: string
  readonly key: string
}

/**
 * WebSocket events plus a drain hook: called when the runtime's send buffer has emptied
 * (Bun's `drain`, or a poll of `bufferedAmount` elsewhere), so the transport can honour backpressure.
 */
export interface TunnelWSEvents extends WSEvents {
  onDrain?: () => void
  /**
   * Fast path for binary frames where the adapter can call it directly (Bun): no MessageEvent or
   * WSContext is built per frame. Adapters without it deliver through `onMessage`.
   */
  onBinary?: (data: Uint8Array) => void
}

/**
 * What differs between Bun, Deno and Node, behind one shape. Two phases: the adapter is
 * loaded with the root app that will receive upgrades (Node's @hono/node-ws routes upgrades through
 * it), then `serve()` listens.
 */
/** How to answer a WebSocket handshake beyond accepting it. */
export interface UpgradeOptions {
  /** The subprotocol to confirm (RFC 6455 §4.2.2: one the client offered), or none. */
  readonly protocol?: string | undefined
  /** Extra fields for the 101 response (a relayed service's Set-Cookie, say), flat `[name, value, …]`. */
  readonly headers?: readonly string[]
}

export interface RuntimeAdapter {
  readonly name: RuntimeName
  /**
   * Upgrade the handshake request of `c` to a WebSocket whose events go to `events`; resolves
   * with what the route returns. Binary frames are read as bytes (ArrayBuffer or a view), never
   * as Blobs. Throws when the runtime refuses the handshake.
   */
  upgradeWebSocket(c: Context, events: TunnelWSEvents, options?: UpgradeOptions): Promise<Response>
  /** Serve `app` (which must be, or mount, the root app the adapter was loaded with). */
  serve(app: Hono<any, any, any>, options: ServeOptions): Promise<ServeHandle>
  /** The consumer's address as the runtime saw it (the socket peer, not a header). */
  clientAddress(c: Context): { address: string | undefined; port: number | undefined }
  /**
   * Send a local service's response to the consumer as faithfully as the runtime's server allows
   * (README: the runtime table says what each cannot send: 103, trailers, a streamed length).
   * Returns the Response for Hono, which on Node is only a marker: Node's is written directly.
   */
  respond(c: Context, response: RelayedResponse): Response
  /**
   * Call `onGone` once if the consumer disconnects while the gateway waits for the local service;
   * returns how to stop listening (call it once the response is on its way). Never throws.
   */
  onConsumerGone(c: Context, onGone: () => void): () => void
  /**
   * The request target as the client sent it, where the runtime's Request URL has resolved its dot
   * segments (Node), so the gateway can refuse `..` as the README says. Bun resolves them before
   * anything of the raw target is visible (the runtime table says so); Deno's URL keeps them.
   */
  rawTarget?(c: Context): string | undefined
  /**
   * The body of a GET or HEAD request, where the runtime's server keeps one (Node). Bun and Deno
   * hand the handler a Request without it (as the Fetch standard has it), so they lack this.
   */
  getOrHeadBody?(c: Context): ReadableStream<Uint8Array> | undefined
  /** Bytes queued on a server-side WebSocket (raw object of the adapter), for backpressure. */
  bufferedAmount(raw: unknown): number
  /** Cut a server-side WebSocket's connection at once, without waiting for the peer's close frame. */
  terminate(raw: unknown): void
  /** Glue an embedding host passes to its own server: Bun's `websocket` handler, Node's `injectWebSocket`. */
  readonly glue: RuntimeGlue
}

export interface RuntimeGlue {
  /** Bun: pass as `websocket` to `Bun.serve` next to `fetch`. Undefined elsewhere. */
  readonly websocket: unknown
  /**
   * Node: call with the `http.Server` @hono/node-server returned; it routes WebSocket upgrades
   * through the root app. Does nothing on Bun and Deno, whose servers hand upgrades to `fetch`.
   */
  readonly injectWebSocket: (server: unknown) => void
}

/** What every adapter is built with. */
export interface AdapterOptions {
  /**
   * The app that receives every request: the gateway's own, or an embedding host's that mounts
   * it. Node routes WebSocket upgrades through it; read at the first upgrade.
   */
  readonly rootApp: () => Hono<any, any, any>
  /** The largest WebSocket message accepted, in bytes (the tunnel's frame limit). */
  readonly maxFrameBytes: number
}
