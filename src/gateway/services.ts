import type { Context } from 'hono'
import type { TokenVerifier } from '../auth/verifier.ts'
import type { ClusterNode } from '../cluster/cluster-node.ts'
import type { ClientIdentity } from './client-identity.ts'
import type { Config } from '../config/index.ts'
import type { Logger } from '../log/logger.ts'
import type { RuntimeAdapter } from '../runtime/index.ts'
import type { SshGatewayServer } from '../transport/ssh-server.ts'
import type { DataDir } from './data-dir.ts'
import type { AdminSessions } from './admin-session.ts'
import type { CircuitBreakers } from './circuit-breakers.ts'
import type { GatewayCounters } from './gateway-counters.ts'
import type { InFlight } from './in-flight.ts'
import type { Observer } from './observer.ts'
import type { RateLimits } from './rate-limits.ts'
import type { TunnelRegistry } from './tunnel-registry.ts'

/** What the gateway opens on first use: the data dir, and what needs its keys. */
export interface Opened {
  readonly data: DataDir
  readonly ssh: SshGatewayServer
  readonly verify: TokenVerifier
  /** With REDIS_URL: what instances present to each other on the internal route (cluster/cluster-secret.ts). */
  readonly clusterSecret: string | undefined
}

/** The services of one gateway instance, handed to its routes and shell modules. */
export interface GatewayServices {
  readonly config: Config
  readonly log: Logger
  /** The runtime adapter the gateway was given (serving, WebSockets, what each runtime cannot do). */
  readonly runtime: RuntimeAdapter
  readonly registry: TunnelRegistry
  /** Token buckets for consumers (per IP, per tunnel owner) and agent connection attempts (per IP). */
  readonly limits: RateLimits
  readonly startedAt: number
  /** Who sent the request: the socket's peer, or the client behind a trusted proxy (TRUSTED_PROXIES). */
  client(c: Context): ClientIdentity
  /** Consumer requests being proxied right now (the drain waits for them). */
  readonly inflight: InFlight
  /** Per-request timing: latency histograms, the dashboard's timeline, the inspector. */
  readonly observe: Observer
  /** One circuit breaker per tunnel (CIRCUIT_BREAKER_FAILURES, CIRCUIT_BREAKER_COOLDOWN). */
  readonly breakers: CircuitBreakers
  /** Keep-alive timeouts, sweeps and the drain's duration, for /metrics. */
  readonly counters: GatewayCounters
  /** Dashboard logins (the admin session cookie and its CSRF token). */
  readonly adminSessions: AdminSessions
  /** Opens the data dir and builds what needs its keys, once (nothing happens before first use). */
  opened(): Promise<Opened>
  /** What opened() resolved to, once it has (the request path's way to skip an await). */
  openedNow(): Opened | undefined
  /** With REDIS_URL: the tunnel directory shared with other instances; undefined otherwise (no Redis code runs). */
  readonly cluster: ClusterNode | undefined
  isDraining(): boolean
  nextConnId(): string
}
