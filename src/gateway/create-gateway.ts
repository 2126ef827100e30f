import { Hono } from 'hono'
import { sshCredentials } from '../auth/ssh-credentials.ts'
import { createVerifier } from '../auth/verifier.ts'
import { ConfigError, configFromOptions, type Config, type GatewayOptions } from '../config/index.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { loadRuntime, type RuntimeGlue, type RuntimeName, type ServeHandle } from '../runtime/index.ts'
import { SshGatewayServer } from '../transport/ssh-server.ts'
import type { SshTcpListener } from '../transport/ssh-tcp-listener.ts'
import type { GatewayCore, GatewayResources } from './core.ts'
import { openDataDir } from './data-dir.ts'
import { drain } from './drain.ts'
import { adminRoutes } from './routes/admin.ts'
import { healthRoutes } from './routes/health.ts'
import { metricsRoute } from './routes/metrics.ts'
import { createRateLimits } from './rate-limits.ts'
import { requestGuard } from './request-guard.ts'
import { proxyRoutes, proxyToTunnel, TUNNEL_NAME } from './routes/proxy.ts'
import { tunnelRoute } from './routes/tunnel.ts'
import { listenSshPort } from './ssh-tcp.ts'
import { statusText } from './status-text.ts'
import { TunnelRegistry } from './tunnel-registry.ts'

export interface CreateGatewayOptions extends GatewayOptions {
  /** Structured logger (default: JSON lines on stderr at `logLevel`). */
  readonly logger?: Logger
  /** Node only: the root app that receives upgrade requests when Burrow is mounted in a host app. */
  readonly rootApp?: Hono<any, any, any>
  /** Force a runtime adapter (default: detected). */
  readonly runtime?: RuntimeName
}

/** A gateway instance: a Hono app plus the lifecycle around it. */
export interface Gateway {
  /** Mount with `host.route('/prefix', gw.app)`, or serve it directly with `listen()`. */
  readonly app: Hono
  readonly config: Config
  /** Load the data dir (host key, secret, admin token) and the runtime adapter. Idempotent. */
  resources(): Promise<GatewayResources>
  /** What an embedding host passes to its server: Bun's `websocket`, Node's `injectWebSocket`. */
  glue(): Promise<RuntimeGlue>
  /** Start timers (sweep) and, when `sshPort` is set, the raw TCP SSH listener. No timers exist before this. */
  start(): Promise<void>
  /** Serve `app` on the configured host/port (and start timers). */
  listen(): Promise<ServeHandle>
  /** Drain: refuse new work, let in-flight requests finish within the grace period, disconnect agents, close listeners. */
  stop(options?: { graceMs?: number }): Promise<void>
  readonly draining: boolean
  /** The port of the raw TCP SSH listener once started, or undefined (no `sshPort`). */
  readonly sshPort: number | undefined
}

/**
 * Create a gateway. No side effects: nothing is read, written, listened on or scheduled until
 * `resources()`, `start()`, `listen()` or a first request. Example:
 * `const gw = createGateway({ port: 0 }); const server = await gw.listen()`.
 */
export function createGateway(options: CreateGatewayOptions = {}): Gateway {
  const parsed = configFromOptions(stripExtras(options))
  if (!parsed.ok) throw new ConfigError(parsed.issues)
  const config = parsed.config
  const log = options.logger ?? createLogger(config.logLevel)
  const registry = new TunnelRegistry({
    limits: {
      maxConnectionsPerUser: config.maxConnectionsPerUser,
      sshMaxChannels: config.sshMaxChannels,
      maxIdleTime: config.maxIdleTime,
      keepaliveInterval: config.sshKeepaliveInterval,
    },
    queueMaxWaiting: config.queueMaxWaiting,
    queueTimeout: config.queueTimeout,
    log,
  })
  let draining = false
  let connSeq = 0
  let loaded: Promise<GatewayResources> | undefined
  const app = new Hono()

  const core: GatewayCore = {
    config,
    log,
    registry,
    limits: createRateLimits(config, log),
    startedAt: Date.now(),
    isDraining: () => draining,
    inflight: { count: 0, onIdle: undefined },
    nextConnId: () => `c${(++connSeq).toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    resources: () => (loaded ??= load()),
  }

  async function load(): Promise<GatewayResources> {
    const data = openDataDir(config.dataDir, { secret: config.secret, adminToken: config.adminToken })
    const runtime = await loadRuntime(() => options.rootApp ?? app, options.runtime)
    const verify = createVerifier({ secret: data.secret, jwksUrl: config.jwksUrl, issuer: config.jwtIssuer, audience: config.jwtAudience })
    const ssh = new SshGatewayServer({
      hostKey: data.hostKey,
      keepaliveInterval: config.sshKeepaliveInterval,
      log,
      hooks: {
        onForward: (binding, client, spec) => {
          // A tunnel is named by its user and reached as /t/<user>/ and <user>.<base domain>: a
          // user name that is not a DNS label could never be reached, or be reached ambiguously.
          if (!TUNNEL_NAME.test(binding.user)) {
            const reason = `user name ${JSON.stringify(binding.user.slice(0, 64))} is not a valid tunnel name (a-z, 0-9, inner hyphens)`
            registry.get(binding.connId)?.close(reason, 1008)
            return { ok: false, reason }
          }
          const r = registry.register(binding.connId, client, spec)
          if (r.ok) return { ok: true, port: spec.bindPort === 0 ? 80 : spec.bindPort }
          registry.get(binding.connId)?.close(r.reason, r.wsCode)
          return { ok: false, reason: r.reason }
        },
        onCancelForward: () => {},
        statusText: (binding) => statusText(core, binding.user),
        onClose: (binding) => registry.closed(binding.connId),
      },
      // OpenSSH users on SSH_PORT: keys in <data dir>/users/<user>/authorized_keys, or a token as the password.
      credentials: sshCredentials({ dataDir: data.dir, verify, log }),
    })
    return { data, runtime, ssh, verify }
  }

  // Before anything else reads the request: the same refusals on every runtime (request-guard.ts).
  app.use('*', requestGuard(core))
  // Host routing first: `<tunnel>.<base domain>` reaches the tunnel with the path untouched.
  if (config.baseDomain !== undefined) {
    const suffix = '.' + config.baseDomain
    app.use('*', async (c, next) => {
      const host = (c.req.header('host') ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '')
      if (!host.endsWith(suffix)) return next()
      const tunnel = host.slice(0, -suffix.length)
      const url = new URL(c.req.url)
      return proxyToTunnel(core, c, tunnel, url.pathname + url.search, { routing: 'host' })
    })
  }
  app.route('/', healthRoutes(core))
  app.route('/', tunnelRoute(core))
  app.route('/', adminRoutes(core))
  app.route('/', metricsRoute(core))
  app.route('/', proxyRoutes(core))
  app.notFound((c) => c.json({ error: { code: 'bad_request', message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404))
  app.onError((err, c) => {
    log.error('unhandled_error', { message: err.message, stack: err.stack })
    return c.json({ error: { code: 'bad_request', message: 'internal error' } }, 500)
  })

  let sweepTimer: ReturnType<typeof setInterval> | undefined
  let server: ServeHandle | undefined
  let stopping: Promise<void> | undefined
  let sshListener: Promise<SshTcpListener | undefined> | undefined
  let sshPort: number | undefined

  const gateway: Gateway = {
    app,
    config,
    resources: core.resources,
    glue: async () => (await core.resources()).runtime.glue,
    get draining() {
      return draining
    },
    get sshPort() {
      return sshPort
    },
    async start() {
      await core.resources()
      sshListener ??= config.sshPort === undefined ? Promise.resolve(undefined) : listenSshPort(core, config.sshPort)
      sshPort = (await sshListener)?.port
      if (sweepTimer !== undefined) return
      sweepTimer = setInterval(() => {
        // Each closure is logged by the registry with its reason; this line sums up the pass.
        const closed = registry.sweepNow()
        if (closed.length > 0) log.info('sweep', { closed: closed.length, trigger: 'interval' })
      }, config.cleanupInterval)
    },
    async listen() {
      const { runtime, data } = await core.resources()
      await gateway.start()
      server = await runtime.serve(app, { port: config.port, hostname: config.host, headersTimeoutMs: config.httpHeadersTimeout })
      log.info('listening', { host: config.host, port: server.port, runtime: runtime.name, fingerprint: data.hostKeyFingerprint })
      return server
    },
    stop(opts = {}) {
      stopping ??= drainAndStop(opts.graceMs ?? config.shutdownGracePeriod)
      return stopping
    },
  }

  async function drainAndStop(graceMs: number): Promise<void> {
    // From here /healthz and /readyz answer 503, consumers get 503 `draining`, agents are refused.
    draining = true
    await drain({
      graceMs,
      log,
      registry,
      inflight: core.inflight,
      async closeListeners(force) {
        const ssh = await sshListener?.catch(() => undefined)
        await Promise.all([server?.close(force), ssh?.close()])
      },
    })
    // The sweep keeps running during the drain (a connection may still go stale); not after it.
    clearInterval(sweepTimer)
    sweepTimer = undefined
  }

  return gateway
}

function stripExtras(options: CreateGatewayOptions): GatewayOptions {
  const { logger: _l, rootApp: _r, runtime: _rt, ...rest } = options
  return rest
}
