import type { TokenVerifier } from '../auth/verifier.ts'
import type { Config } from '../config/index.ts'
import type { Logger } from '../log/logger.ts'
import type { RuntimeAdapter } from '../runtime/index.ts'
import type { SshGatewayServer } from '../transport/ssh-server.ts'
import type { DataDir } from './data-dir.ts'
import type { RateLimits } from './rate-limits.ts'
import type { TunnelRegistry } from './tunnel-registry.ts'

/** What the lazily-initialised gateway holds once its data dir and runtime adapter are loaded. */
export interface GatewayResources {
  readonly data: DataDir
  readonly runtime: RuntimeAdapter
  readonly ssh: SshGatewayServer
  readonly verify: TokenVerifier
}

/** Shared state of one gateway instance, handed to its route modules. */
export interface GatewayCore {
  readonly config: Config
  readonly log: Logger
  readonly registry: TunnelRegistry
  /** Token buckets for consumers (per IP, per tunnel owner) and agent connection attempts (per IP). */
  readonly limits: RateLimits
  readonly startedAt: number
  /** Opens the data dir and loads the runtime adapter once (no side effects before first use). */
  resources(): Promise<GatewayResources>
  isDraining(): boolean
  /** Consumer requests being proxied right now (the drain waits for them). */
  readonly inflight: { count: number; onIdle: (() => void) | undefined }
  nextConnId(): string
}
