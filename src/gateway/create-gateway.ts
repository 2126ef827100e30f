import { Hono } from 'hono'
import { sshCredentials } from '../auth/ssh-credentials.ts'
import { createVerifier } from '../auth/verifier.ts'
import { ConfigError, configFromOptions, type Config, type GatewayOptions } from '../config/index.ts'
import { MISSED_KEEPALIVES, TUNNEL_NAME } from '../wire/index.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import type { RuntimeAdapter, RuntimeName, ServeHandle } from '../runtime/index.ts'
import { refusalNotice, WS_CLOSE } from '../transport/close-codes.ts'
import { SshGatewayServer } from '../transport/ssh-server.ts'
import type { SshTcpListener } from '../transport/ssh-tcp-listener.ts'
import { openDataDir } from './data-dir.ts'
import { drain } from './drain.ts'
import { notFound, unhandled } from './errors.ts'
import { clientResolver } from './client-identity.ts'
import { AdminSessions } from './admin-session.ts'
import { dashboardRoutes } from './routes/dashboard.ts'
import { observeRoutes } from './routes/observe.ts'
import { CircuitBreakers } from './circuit-breakers.ts'
import { GatewayCounters } from './gateway-counters.ts'
import { InFlight } from './in-flight.ts'
import { Observer } from './observer.ts'
import { loadTlsFiles, type TlsSummary } from './tls-files.ts'
import { createRateLimits } from './rate-limits.ts'
import { requestGuard } from './request-guard.ts'
import { adminRoutes, statsView, type GatewayStats } from './routes/admin.ts'
import { healthRoutes } from './routes/health.ts'
import { metricsRoute } from './routes/metrics.ts'
import { proxyRoutes } from './routes/proxy.ts'
import { tunnelRoute } from './routes/tunnel.ts'
import type { GatewayServices, Opened } from './services.ts'
import { listenSshPort } from './ssh-tcp.ts'
import { statusText } from './status-text.ts'
import { TunnelRegistry } from './tunnel-registry.ts'
import { clusterSecret } from '../cluster/cluster-secret.ts'
import { internalUrl } from '../cluster/internal-url.ts'
import { admitClustered } from './cluster-admission.ts'
import { clusterNode, holdingsOf } from './cluster-wiring.ts'
import { internalRoute } from './routes/internal.ts'
import { dropIdleChannels } from './relay-http.ts'

export interface GatewayShellOptions extends GatewayOptions {
  /** Structured logger (default: JSON lines on stderr at `logLevel`). */
  readonly logger?: Logger
  /**
   * The runtime adapter, built for the gateway's own app (the public `createGateway` in index.ts
   * picks the running runtime's). The gateway never chooses a runtime itself.
   */
  readonly runtime: (gatewayApp: Hono) => RuntimeAdapter
}

/** Where a running gateway keeps its identity, for a host's banner or logs. */
export interface GatewayIdentity {
  /** SHA256 fingerprint of the SSH host key, as OpenSSH prints it. */
  readonly hostKeyFingerprint: string
  readonly dataDir: string
  /** The file holding the admin token, or undefined when it came from the configuration. */
  readonly adminTokenPath: string | undefined
  /** The certificate `listen()` serves (TLS_CERT_FILE), or undefined for plain HTTP or before `listen()`. */
  readonly tls: TlsSummary | undefined
}

/** A gateway instance: a Hono app plus the lifecycle around it. */
export interface Gateway {
  /** Mount with `host.route('/prefix', gw.app)`, or serve it directly with `listen()`. */
  readonly app: Hono
  /** Bun: pass to `Bun.serve({ fetch, websocket })`. Undefined on other runtimes. Exists at once. */
  readonly websocket: unknown
  /** Node: call with the server @hono/node-server returned, so WebSocket upgrades reach the app. No-op elsewhere. */
  injectWebSocket(server: unknown): void
  readonly config: Config
  readonly runtime: RuntimeName
  /** Start timers (sweep) and, when `sshPort` is set, the raw TCP SSH listener. No timers exist before this. */
  start(): Promise<void>
  /**
   * Serve on the configured host and port with the runtime's own server (and start timers):
   * the gateway's app, or `options.app`, a host app that mounts it.
   */
  listen(options?: { app?: Hono<any, any, any> }): Promise<ServeHandle>
  /** Drain: refuse new work, let in-flight requests finish within the grace period, disconnect agents, close listeners. */
  stop(options?: { graceMs?: number }): Promise<void>
  /** The figures of `GET /admin/stats`. */
  stats(): GatewayStats
  /** Host key fingerprint and where the data dir and admin token are (opens the data dir if needed). */
  identity(): Promise<GatewayIdentity>
  readonly draining: boolean
  /** The port of the raw TCP SSH listener once started, or undefined (no `sshPort`). */
  readonly sshPort: number | undefined
}

/**
 * The gateway shell: wires config, pool registry, routes and the given runtime adapter. No side
 * effects: nothing is read, written, listened on or scheduled until `start()`, `listen()`,
 * `identity()` or a first request.
 */
export function createGatewayShell(options: GatewayShellOptions): Gateway {
  const { logger, runtime: adapterFor, ...gatewayOptions } = options
  const parsed = configFromOptions(gatewayOptions)
  if (!parsed.ok) throw new ConfigError(parsed.issues)
  const config = parsed.config
  const log = logger ?? createLogger(config.logLevel, undefined, config.logFormat)
  const limits = {
    maxConnectionsPerUser: config.maxConnectionsPerUser,
    sshMaxChannels: config.sshMaxChannels,
    maxIdleTime: config.maxIdleTime,
    staleAfter: MISSED_KEEPALIVES * config.sshKeepaliveInterval,
  }
  const registry = new TunnelRegistry({
    limits,
    queueMaxWaiting: config.queueMaxWaiting,
    queueTimeout: config.queueTimeout,
    log,
  })
  const app = new Hono()
  const runtime = adapterFor(app)
  const resolveClient = clientResolver(config.trustedProxies)
  let draining = false
  let connSeq = 0
  let opened: Promise<Opened> | undefined
  let openedValue: Opened | undefined

  // With REDIS_URL only: without it no Redis client exists and no cluster code runs.
  const cluster = config.redisUrl === undefined ? undefined : clusterNode(config.redisUrl, config.instanceId, log, () => holdingsOf(svc))

  const svc: GatewayServices = {
    cluster,
    config,
    log,
    runtime,
    registry,
    limits: createRateLimits(config, log),
    startedAt: Date.now(),
    inflight: new InFlight(),
    observe: new Observer(config.requestMetrics),
    breakers: new CircuitBreakers(config.circuitBreakerFailures, config.circuitBreakerCooldown, log),
    counters: new GatewayCounters(),
    adminSessions: new AdminSessions(),
    client: (c) => resolveClient(runtime.clientAddress(c), c.req.raw.headers, c.req.url),
    opened: () => (opened ??= open().then((o) => (openedValue = o))),
    openedNow: () => openedValue,
    isDraining: () => draining,
    nextConnId: () => `c${(++connSeq).toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
  }

  async function open(): Promise<Opened> {
    const data = openDataDir(config.dataDir, { secret: config.secret, adminToken: config.adminToken })
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
            registry.get(binding.connId)?.close(reason, WS_CLOSE.policy)
            return { ok: false, reason }
          }
          const live = registry.get(binding.connId)
          const first = live?.client === undefined
          if (cluster !== undefined) {
            return admitClustered(svc, limits, binding.connId, client, spec).then((verdict) => {
              // Its attempt was legitimate: give the address its token back (rate-limits.ts).
              if (verdict.ok && first) svc.limits.agentAdmitted(live?.remoteAddress)
              return verdict
            })
          }
          const r = registry.register(binding.connId, client, spec)
          if (r.ok) {
            // Its attempt was legitimate: give the address its token back (rate-limits.ts).
            if (first) svc.limits.agentAdmitted(live?.remoteAddress)
            return { ok: true, port: spec.bindPort === 0 ? 80 : spec.bindPort }
          }
          const notice = refusalNotice(r.refusal)
          registry.get(binding.connId)?.close(notice.reason, notice.code)
          return { ok: false, reason: notice.reason }
        },
        onCancelForward: (binding, spec) => {
          // Out of the pool; its idle kept-alive channels go too, so a stopping agent, which waits
          // for its open channels to end, is not held by channels nobody will use.
          const conn = registry.get(binding.connId)
          if (registry.cancel(binding.connId, spec) && conn !== undefined) dropIdleChannels(conn)
        },
        statusText: (binding) => statusText(svc, binding.user),
        onKeepaliveTimeout: () => svc.counters.keepaliveTimeouts++,
        onClose: (binding) => {
          registry.closed(binding.connId)
          if (cluster !== undefined) {
            void cluster.directory.release(binding.user, binding.connId)
            cluster.directory.changed()
          }
        },
      },
      // OpenSSH users on SSH_PORT: keys in <data dir>/users/<user>/authorized_keys, or a token as the password.
      credentials: sshCredentials({ dataDir: data.dir, verify, log }),
    })
    return { data, ssh, verify, clusterSecret: cluster === undefined ? undefined : clusterSecret(config.clusterSecret, data.secret) }
  }

  // Before anything else reads the request: the same refusals on every runtime (request-guard.ts).
  app.use('*', requestGuard(svc))
  // Host routing comes first inside the proxy routes: `<tunnel>.<base domain>` owns every path.
  // Before the proxy routes: a forwarded request's Host is this instance's own, never a tunnel's.
  if (cluster !== undefined) app.route('/', internalRoute(svc))
  app.route('/', proxyRoutes(svc))
  app.route('/', healthRoutes(svc))
  app.route('/', tunnelRoute(svc))
  app.route('/', dashboardRoutes(svc))
  app.route('/', adminRoutes(svc))
  app.route('/', observeRoutes(svc))
  app.route('/', metricsRoute(svc))
  app.notFound((c) => notFound(c.req.method, new URL(c.req.url).pathname))
  app.onError((err, c) => {
    const requestId = c.get('requestId' as never) as string | undefined
    log.error('unhandled_error', { message: err.message, stack: err.stack, ...(requestId === undefined ? {} : { requestId }) })
    const res = unhandled()
    if (requestId !== undefined) res.headers.set('x-request-id', requestId)
    return res
  })

  let sweepTimer: ReturnType<typeof setInterval> | undefined
  let server: ServeHandle | undefined
  let tlsSummary: TlsSummary | undefined
  let stopping: Promise<void> | undefined
  let sshListener: Promise<SshTcpListener | undefined> | undefined
  let sshPort: number | undefined

  const gateway: Gateway = {
    app,
    websocket: runtime.glue.websocket,
    injectWebSocket: (s) => runtime.glue.injectWebSocket(s),
    config,
    runtime: runtime.name,
    get draining() {
      return draining
    },
    get sshPort() {
      return sshPort
    },
    stats: () => statsView(svc),
    async identity() {
      const { data } = await svc.opened()
      return { hostKeyFingerprint: data.hostKeyFingerprint, dataDir: data.dir, adminTokenPath: data.adminTokenPath, tls: tlsSummary }
    },
    async start() {
      await svc.opened()
      sshListener ??= config.sshPort === undefined ? Promise.resolve(undefined) : listenSshPort(svc, config.sshPort)
      sshPort = (await sshListener)?.port
      // Embedded under a host app's own server, only BURROW_INTERNAL_URL can say where this is.
      if (cluster !== undefined && config.internalUrl !== undefined && cluster.directory.url === undefined) await cluster.directory.start(internalUrl(config.internalUrl, { host: config.host, port: config.port, tls: false }))
      if (sweepTimer !== undefined) return
      sweepTimer = setInterval(() => {
        // Each closure is logged by the registry with its reason; this line sums up the pass.
        const closed = registry.sweepNow()
        svc.counters.sweeps.interval++
        if (closed.length > 0) log.info('sweep', { closed: closed.length, trigger: 'interval' })
      }, config.cleanupInterval)
    },
    async listen(listenOptions = {}) {
      await gateway.start()
      const { data } = await svc.opened()
      // Checked before listening: a wrong file stops the start with its name, not the first handshake.
      const tls = config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined ? loadTlsFiles(config.tlsCertFile, config.tlsKeyFile) : undefined
      const listening = await runtime.serve(listenOptions.app ?? app, { port: config.port, hostname: config.host, headersTimeoutMs: config.httpHeadersTimeout, tls: tls?.files })
      server = listening
      tlsSummary = tls?.summary
      if (cluster !== undefined && cluster.directory.url === undefined) {
        await cluster.directory.start(internalUrl(config.internalUrl, { host: config.host, port: listening.port, tls: tls !== undefined }))
      }
      log.info('listening', {
        ...(cluster === undefined ? {} : { instance: cluster.instanceId, internalUrl: cluster.directory.url }),
        host: config.host,
        port: listening.port,
        runtime: runtime.name,
        fingerprint: data.hostKeyFingerprint,
        ...(tls === undefined ? {} : { tls: { subject: tls.summary.subject, validTo: tls.summary.validTo } }),
      })
      return listening
    },
    stop(opts = {}) {
      stopping ??= drainAndStop(opts.graceMs ?? config.shutdownGracePeriod)
      return stopping
    },
  }

  async function drainAndStop(graceMs: number): Promise<void> {
    // From here /healthz and /readyz answer 503, consumers get 503 `draining`, agents are refused.
    draining = true
    svc.counters.drainStartedAt = Date.now()
    // Out of the directory first: other instances stop sending this one new requests (within
    // their lookup cache) while its in-flight ones finish.
    await cluster?.directory.leave()
    await drain({
      graceMs,
      log,
      registry,
      inflight: svc.inflight,
      async closeListeners(force) {
        const ssh = await sshListener?.catch(() => undefined)
        await Promise.all([server?.close(force), ssh?.close()])
      },
    })
    svc.counters.drainMs = Date.now() - svc.counters.drainStartedAt
    // The sweep keeps running during the drain (a connection may still go stale); not after it.
    clearInterval(sweepTimer)
    sweepTimer = undefined
    await cluster?.directory.stop()
  }

  return gateway
}
