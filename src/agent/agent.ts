import { randomBytes } from 'node:crypto'
import { HOST_VALUE } from '../wire/index.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { backoffDelay } from './backoff.ts'
import { DEFAULT_CHANNELS_PER_CONNECTION, needsAnother } from './demand.ts'
import { dialOnce, type DialOutcome } from './dial-once.ts'
import { checkProxyUrl, proxyAgent } from './proxy.ts'
import { waitAsTold } from './retry-after.ts'
import { parseTarget, type LocalTarget } from './local-target.ts'
import { InstanceSpread } from './instance-spread.ts'
import { tunnelUrl } from './tunnel-url.ts'
import { tokenSubject } from './token-subject.ts'
import { tokenExpiry, warnBeforeExpiry } from './token-warnings.ts'

export interface AgentOptions {
  /**
   * Gateway base URL (`https://host`, `wss://host/prefix`); `/tunnel` is appended. Several
   * instances of one gateway (REDIS_URL) as `URL1,URL2,…`: connections spread over them
   * (instance-spread.ts).
   */
  readonly server: string
  readonly token: string
  /**
   * Re-read the token before every dial (`--token-file`): a rotated token is used from the next
   * connection on, without a restart. A refused token then is retried (the file may be renewed)
   * instead of stopping the agent. The first token is `token`.
   */
  readonly readToken?: () => { ok: true; token: string } | { ok: false; message: string }
  /** A message for the person running the agent (token expiry ahead), printed on its own line. */
  readonly onNotice?: (text: string) => void
  /** The local service, e.g. `http://127.0.0.1:11434`. */
  readonly to: string
  /**
   * `'auto'` (the default): start with 1 connection, open another when the open channels reach 80 %
   * of capacity (demand.ts), up to the user's limit the gateway tells (Burrow-Max-Connections; 3
   * until told); surplus ones rest once the gateway retires them as idle. A number, 1..3: open that
   * many at once and keep them (an idle-retired one still rests until load needs it).
   */
  readonly connections?: number | 'auto'
  readonly isPublic?: boolean
  /** Expected gateway host key (`SHA256:…`); a mismatch is refused. */
  readonly fingerprint?: string
  /**
   * PEM certificates (text, not a path) to trust for an https/wss gateway in place of the system's
   * store: a private CA, or a self-signed gateway certificate. An untrusted certificate stops the
   * agent with the reason (retrying cannot fix it).
   */
  readonly ca?: string
  /**
   * The Host header the local service gets: 'rewrite' (default: the `to` target's own `host:port`,
   * which services checking Host, such as Ollama and Vite, accept), 'preserve' (the consumer's,
   * the public host), or a fixed `host[:port]`. The public host always travels in X-Forwarded-Host.
   */
  readonly hostHeader?: string
  /**
   * HTTP CONNECT proxy to reach the gateway through, `http://[user:password@]host:port` (the CLI
   * picks it from --proxy or HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY: proxy.ts). Direct if absent.
   */
  readonly proxy?: string | undefined
  /** SSH keep-alive towards the gateway, ms (default 60000). */
  readonly keepaliveInterval?: number
  readonly agentId?: string
  readonly logger?: Logger
  /** Called whenever the status changes (for a status line). */
  readonly onStatus?: (status: AgentStatus) => void
}

// How long a stopping agent waits for channels of requests leased before its cancel arrived.
const STOP_SETTLE_MS = 500
/** ms between status updates for the served count alone (the status line redraws at most every second). */
const SERVED_NOTICE_MS = 250

// The ceiling of an auto agent before the gateway said the user's limit (its default, 3).
const AUTO_CEILING_UNTIL_TOLD = 3

export interface AgentStatus {
  readonly connected: number
  /** Connections the agent is keeping or dialling now (not the ones resting until load needs them). */
  readonly wanted: number
  /** The most it opens when busy (`wanted` grows up to this). */
  readonly ceiling: number
  /** ms until the next reconnect attempt, when one is pending. */
  readonly retryInMs: number | undefined
  readonly lastError: string | undefined
  readonly served: number
  readonly fingerprint: string | undefined
  /** `stopping`: forwards cancelled, waiting for requests in flight; `stopped`: done. */
  readonly phase?: 'stopping' | 'stopped'
  /** While stopping: forwarded channels still open. */
  readonly inFlight?: number
}

/** A running agent. `done` resolves when it stops: `ok` false with the reason if it gave up. */
export interface Agent {
  readonly done: Promise<{ ok: boolean; message: string }>
  status(): AgentStatus
  /**
   * Stop. With `graceMs` > 0: cancel the forwards at once (the gateway routes nothing more here),
   * let the channels in flight finish for up to `graceMs`, then close. Without, or when called
   * again: close now. `done` then resolves with `stopped`.
   */
  stop(graceMs?: number): void
}

/**
 * What the gateway is told to send as Host: `preserve`, or the value itself (`rewrite` resolves to
 * the target's `host:port`). Undefined when `mode` is neither a keyword nor a valid Host.
 */
export function hostHeaderFor(mode: string, target: LocalTarget): string | undefined {
  if (mode === 'preserve') return 'preserve'
  if (mode === 'rewrite') return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
  return HOST_VALUE.test(mode) ? mode : undefined
}

/** Start an agent: N connection loops (slots), each reconnecting with its own backoff (backoff.ts). Example: `createAgent({ server, token, to: 'http://127.0.0.1:3000' })`. */
export function createAgent(options: AgentOptions): Agent {
  const target = parseTarget(options.to)
  if (target === undefined) throw new Error(`Cannot use --to ${options.to}: expected http://HOST:PORT, HOST:PORT or PORT (port 1-65535, no path: each request keeps its own)`)
  const user = tokenSubject(options.token)
  if (user === undefined) throw new Error('Cannot use --token: it is not a Burrow token (no subject)')
  // `--server URL1,URL2,…`: several instances of one gateway; each connection picks its own.
  const urls: string[] = []
  for (const given of options.server.split(',').map((u) => u.trim()).filter((u) => u !== '')) {
    const dialed = tunnelUrl(given)
    if (!dialed.ok) throw new Error(`Cannot use --server: ${dialed.message}`)
    urls.push(dialed.url)
  }
  if (urls.length === 0) throw new Error('Cannot use --server: no URL given')
  const spread = new InstanceSpread(urls)
  const hostHeader = hostHeaderFor(options.hostHeader ?? 'rewrite', target)
  if (hostHeader === undefined) throw new Error(`Cannot use --host-header ${options.hostHeader}: expected rewrite, preserve or HOST[:PORT]`)
  const mode = options.connections ?? 'auto'
  if (mode !== 'auto' && (!Number.isInteger(mode) || mode < 1 || mode > 3)) throw new Error(`Cannot use --connections ${mode}: expected auto, 1, 2 or 3`)
  // The most slots it may open: fixed, or (auto) the user's limit once the gateway said it.
  let ceiling = mode === 'auto' ? AUTO_CEILING_UNTIL_TOLD : mode
  // Slots started so far (0 … started-1); auto starts one and adds more under load.
  let started = 0
  if (options.proxy !== undefined) {
    const checked = checkProxyUrl(options.proxy)
    if (!checked.ok) throw new Error(`Cannot use the proxy: ${checked.message}`)
  }
  // One agent for every dial: it holds no sockets between dials (each CONNECT is its own).
  const viaProxy = options.proxy === undefined ? undefined : proxyAgent(options.proxy)
  const log = options.logger ?? createLogger('info')
  const agentId = options.agentId ?? randomBytes(9).toString('base64url')
  const abort = new AbortController()
  // Aborted when a graceful stop begins (dial-once cancels its forward); `abort` ends everything.
  const drain = new AbortController()
  let stoppedAt: 'stopping' | 'stopped' | undefined
  let settled = false
  const up = new Set<number>()
  let served = 0
  let servedNotice: ReturnType<typeof setTimeout> | undefined
  // Per slot: when its next attempt is due (slots back off independently).
  const retryAt = new Map<number, number>()
  // Slots resting until load needs them (the gateway retired them as idle surplus), and their wake-ups.
  const resting = new Map<number, () => void>()
  // Open forwarded channels per slot's current connection: the measure of load (demand.ts).
  const channels = new Map<number, { open: number }>()
  let channelsPerConnection = DEFAULT_CHANNELS_PER_CONNECTION
  let lastError: string | undefined
  let fingerprint: string | undefined
  const status = (): AgentStatus => ({
    connected: up.size,
    wanted: started - resting.size,
    ceiling: Math.max(ceiling, started),
    retryInMs: retryAt.size === 0 ? undefined : Math.max(0, Math.min(...retryAt.values()) - Date.now()),
    lastError,
    served,
    fingerprint,
    ...(stoppedAt === undefined ? {} : { phase: stoppedAt, inFlight: openChannels() }),
  })
  const openChannels = () => {
    let open = 0
    for (const c of channels.values()) open += c.open
    return open
  }
  const changed = () => options.onStatus?.(status())

  /**
   * When the channels open on the live connections call for another connection: wake the lowest
   * resting slot, or (auto) start a new one below the ceiling. One at a time: a slot still dialling
   * counts as wanted but not up, and the next channel will ask again once it is.
   */
  const checkDemand = () => {
    if (started - resting.size > up.size) return
    if (resting.size === 0 && started >= ceiling) return
    let open = 0
    for (const c of channels.values()) open += c.open
    if (!needsAnother(open, up.size, channelsPerConnection)) return
    if (resting.size === 0) {
      log.info('agent_slot_added', { slot: started, openChannels: open, up: up.size })
      startSlot()
      changed()
      return
    }
    const slot = Math.min(...resting.keys())
    const wake = resting.get(slot)!
    resting.delete(slot)
    log.info('agent_slot_woken', { slot, openChannels: open, up: up.size })
    wake()
  }
  const rest = (slot: number) =>
    new Promise<void>((r) => {
      resting.set(slot, r)
      abort.signal.addEventListener('abort', () => (resting.delete(slot), r()), { once: true })
    })

  let resolveDone!: (r: { ok: boolean; message: string }) => void
  const done = new Promise<{ ok: boolean; message: string }>((r) => (resolveDone = r))
  let fatal: string | undefined

  // The token in use, and the warnings ahead of its expiry (set again when a rotated one comes up).
  let token = options.token
  let warnedFor: string | undefined
  let stopWarnings: (() => void) | undefined
  const nextToken = (): { ok: true; token: string } | { ok: false; message: string } => {
    if (options.readToken === undefined) return { ok: true, token }
    const read = options.readToken()
    if (!read.ok) return read
    if (tokenSubject(read.token) !== user) return { ok: false, message: `the token file's token is not for ${user} (restart the agent to change user)` }
    token = read.token
    return read
  }
  const watchExpiry = (used: string) => {
    if (used === warnedFor) return
    warnedFor = used
    stopWarnings?.()
    const expiresAt = tokenExpiry(used)
    stopWarnings =
      expiresAt === undefined
        ? undefined
        : warnBeforeExpiry(expiresAt, (text) => {
            log.warn('agent_token_expiring', { expiresAt: new Date(expiresAt).toISOString(), message: text })
            options.onNotice?.(text)
          })
  }
  abort.signal.addEventListener('abort', () => stopWarnings?.(), { once: true })

  async function loop(slot: number): Promise<void> {
    let attempt = 0
    while (!abort.signal.aborted && !drain.signal.aborted) {
      const url = spread.pick(slot)
      const mine = { open: 0 }
      channels.set(slot, mine)
      const read = nextToken()
      const used = read.ok ? read.token : token
      const dialled: DialOutcome = !read.ok ? { kind: 'retry', message: read.message, wasUp: false } : await dialOnce({
        url,
        onInstance: (instance) => spread.reached(slot, url, instance),
        token: used,
        user: user!,
        agentId,
        slot,
        isPublic: options.isPublic ?? false,
        hostHeader: hostHeader!,
        target: target!,
        fingerprint: options.fingerprint,
        ca: options.ca,
        proxyAgent: viaProxy,
        keepaliveInterval: options.keepaliveInterval ?? 60_000,
        log,
        signal: abort.signal,
        drain: drain.signal,
        onLimits: (limits) => {
          if (limits.channelsPerConnection !== undefined) channelsPerConnection = limits.channelsPerConnection
          if (mode === 'auto' && limits.maxConnections !== undefined) ceiling = limits.maxConnections
        },
        onUp: (fp) => {
          fingerprint = fp
          up.add(slot)
          attempt = 0
          log.info('agent_tunnel_up', { slot, fingerprint: fp })
          watchExpiry(used)
          changed()
        },
        onServed: () => {
          served++
          // The count is news for the status line at most every SERVED_NOTICE_MS, not per request.
          if (servedNotice !== undefined) return
          servedNotice = setTimeout(() => {
            servedNotice = undefined
            changed()
          }, SERVED_NOTICE_MS)
          servedNotice.unref?.()
        },
        onChannel: (delta) => {
          mine.open += delta
          if (delta > 0) checkDemand()
          // Stopping: the last request in flight has finished.
          else if (settled && openChannels() === 0) abort.abort()
          if (drain.signal.aborted) changed()
        },
      })
      // With a token file, a refused token may be renewed: keep trying (and re-reading), as told.
      const outcome: DialOutcome = dialled.kind === 'fatal' && dialled.tokenRejected === true && options.readToken !== undefined ? { kind: 'retry', message: dialled.message, wasUp: false } : dialled
      up.delete(slot)
      spread.ended(slot, url)
      channels.delete(slot)
      if (abort.signal.aborted) break
      // Stopping: a connection that ended is not redialled; the last one to end finishes the stop.
      if (drain.signal.aborted) {
        if (settled && openChannels() === 0) abort.abort()
        break
      }
      if (outcome.kind === 'fatal') {
        fatal = outcome.message
        abort.abort()
        break
      }
      // Auto: a slot opened for load that finds the user's limit taken (another agent of the user)
      // rests like an idle one instead of retrying; slot 0 keeps trying, with growing pauses.
      const restsAtLimit = mode === 'auto' && slot > 0 && outcome.kind === 'retry' && outcome.atLimit === true
      if (restsAtLimit) lastError = outcome.message
      if (outcome.kind === 'idle' || restsAtLimit) {
        // The gateway had more of our connections than the load needed: this one rests until the
        // others get busy, instead of coming straight back to be retired again (README).
        log.info('agent_slot_resting', { slot, reason: outcome.message })
        const resting = rest(slot)
        changed()
        await resting
        attempt = 0
        changed()
        continue
      }
      lastError = outcome.message
      if (outcome.wasUp) attempt = 0
      // Told when to come back (a 429 or 503's Retry-After): that, with a little jitter, not sooner.
      const delay = outcome.kind === 'retry' && outcome.retryAfterMs !== undefined ? waitAsTold(outcome.retryAfterMs) : backoffDelay(attempt)
      attempt++
      retryAt.set(slot, Date.now() + delay)
      log.info('agent_reconnecting', { slot, inMs: delay, reason: outcome.message })
      changed()
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay)
        abort.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true })
      })
      retryAt.delete(slot)
    }
  }

  const loops: Promise<void>[] = []
  function startSlot(): void {
    loops.push(loop(started++))
  }
  for (let i = 0; i < (mode === 'auto' ? 1 : mode); i++) startSlot()
  // Slots started later push onto `loops`: wait until every one of them has ended.
  const allEnded = async (): Promise<void> => {
    for (let seen = 0; seen < loops.length; seen = loops.length) await Promise.all(loops.slice(seen))
  }
  void allEnded().then(() => {
    if (stoppedAt !== undefined) stoppedAt = 'stopped'
  }).then(() => resolveDone(fatal === undefined ? { ok: true, message: 'stopped' } : { ok: false, message: fatal }))
  return {
    done,
    status,
    stop: (graceMs = 0) => {
      if (drain.signal.aborted || graceMs <= 0) return abort.abort()
      stoppedAt = 'stopping'
      drain.abort()
      log.info('agent_stopping', { inFlight: openChannels(), graceMs })
      changed()
      const deadline = setTimeout(() => abort.abort(), graceMs)
      // A request the gateway leased just before our cancel reached it still opens its channel a
      // moment later: count what is open only once that moment has passed.
      const settle = setTimeout(() => {
        settled = true
        if (openChannels() === 0) abort.abort()
      }, Math.min(graceMs, STOP_SETTLE_MS))
      abort.signal.addEventListener('abort', () => (clearTimeout(deadline), clearTimeout(settle)), { once: true })
    },
  }
}
