/**
 * Burrow's public API: a gateway to serve or embed, an agent, tokens, configuration.
 */
import type { Hono } from 'hono'
import { createGatewayShell, type Gateway, type GatewayShellOptions } from './gateway/index.ts'
import { createRuntimeAdapter, detectRuntime, type RuntimeName } from './runtime/index.ts'
import { MAX_FRAME_BYTES } from './transport/frame-limit.ts'

export type { Gateway, GatewayIdentity, GatewayStats, TlsSummary } from './gateway/index.ts'
export { DataDirError, TlsFilesError } from './gateway/index.ts'
export type { RuntimeName, ServeHandle } from './runtime/index.ts'
export { createAgent, type AgentOptions, type Agent, type AgentStatus } from './agent/agent.ts'
export { signToken, verifyToken } from './auth/tokens.ts'
export { ConfigError, type Config, type GatewayOptions } from './config/index.ts'

export interface CreateGatewayOptions extends Omit<GatewayShellOptions, 'runtime'> {
  /** The runtime to serve on (default: the one running this code). */
  readonly runtime?: RuntimeName
  /**
   * Node, when Burrow is mounted in a host app: the host's root app, which receives every request
   * (WebSocket upgrades are routed through it). Default: the gateway's own app.
   */
  readonly rootApp?: Hono<any, any, any>
}

/**
 * Create a gateway for the running runtime. Nothing is read, written, listened on or scheduled
 * until `start()`, `listen()`, `identity()` or a first request; `websocket` (Bun) exists at once.
 * Throws ConfigError naming every bad option. Examples:
 * `Bun.serve({ fetch: gw.app.fetch, websocket: gw.websocket })`; `host.route('/tunnels', gw.app)`.
 */
export function createGateway(options: CreateGatewayOptions = {}): Gateway {
  const { runtime, rootApp, ...rest } = options
  const name = runtime ?? detectRuntime()
  return createGatewayShell({
    ...rest,
    runtime: (gatewayApp) => createRuntimeAdapter(name, { rootApp: () => rootApp ?? gatewayApp, maxFrameBytes: MAX_FRAME_BYTES }),
  })
}
