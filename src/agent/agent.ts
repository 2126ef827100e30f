import { randomBytes } from 'node:crypto'
import { HOST_VALUE } from '../wire/index.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { backoffDelay } from './backoff.ts'
import { DEFAULT_CHANNELS_PER_CONNECTION, needsAnother } from './demand.ts'
import { dialOnce } from './dial-once.ts'
import { parseTarget, type LocalTarget } from './local-target.ts'
import { InstanceSpread } from './instance-spread.ts'
import { tunnelUrl } from './tunnel-url.ts'
import { tokenSubject } from './token-subject.ts'

export interface AgentOptions {
  /**
   * Gateway base URL (`https://host`, `wss://host/prefix`); `/tunnel` is appended. Several
   * instances of one gateway (REDIS_URL) as `URL1,URL2,…`: connections spread over them
   * (instance-spread.ts).
   */
  readonly server: string
  readonly token: string
  /** The local service, e.g. `http://127.0.0.1:11434`. */
  readonly to: string
  /** Parallel connections, 1..3 (default 1). */
  readonly connections?: number
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
  /** SSH keep-alive towards the gateway, ms (default 60000). */
  readonly keepaliveInterval?: number
  readonly agentId?: string
  readonly logger?: Logger
  /** Called whenever the status changes (for a status line). */
  readonly onStatus?: (status: AgentStatus) => void
}

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
}

/** A running agent. `done` resolves when it stops: `ok` false with the reason if it gave up. */
export interface Agent {
  readonly done: Promise<{ ok: boolean; message: string }>
  status(): AgentStatus
  stop(): void
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
  if (target === undefined) throw new Error(`Cannot use --to ${options.to}: expected http://HOST:PORT`)
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
  const wanted = options.connections ?? 1
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 3) throw new Error(`Cannot use --connections ${wanted}: expected 1, 2 or 3`)
  const log = options.logger ?? createLogger('info')
  const agentId = options.agentId ?? randomBytes(9).toString('base64url')
  const abort = new AbortController()
  const up = new Set<number>()
  let served = 0
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
    wanted: wanted - resting.size,
    ceiling: wanted,
    retryInMs: retryAt.size === 0 ? undefined : Math.max(0, Math.min(...retryAt.values()) - Date.now()),
    lastError,
    served,
    fingerprint,
  })
  const changed = () => options.onStatus?.(status())

  /** Wake the lowest resting slot when the channels open on the live connections call for it. */
  const checkDemand = () => {
    if (resting.size === 0) return
    let open = 0
    for (const c of channels.values()) open += c.open
    if (!needsAnother(open, up.size, channelsPerConnection)) return
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

  async function loop(slot: number): Promise<void> {
    let attempt = 0
    while (!abort.signal.aborted) {
      const url = spread.pick(slot)
      const mine = { open: 0 }
      channels.set(slot, mine)
      const outcome = await dialOnce({
        url,
        onInstance: (instance) => spread.reached(slot, url, instance),
        token: options.token,
        user: user!,
        agentId,
        slot,
        isPublic: options.isPublic ?? false,
        hostHeader: hostHeader!,
        target: target!,
        fingerprint: options.fingerprint,
        ca: options.ca,
        keepaliveInterval: options.keepaliveInterval ?? 60_000,
        log,
        signal: abort.signal,
        onLimits: (limits) => {
          if (limits.channelsPerConnection !== undefined) channelsPerConnection = limits.channelsPerConnection
        },
        onUp: (fp) => {
          fingerprint = fp
          up.add(slot)
          attempt = 0
          log.info('agent_tunnel_up', { slot, fingerprint: fp })
          changed()
        },
        onServed: () => {
          served++
          changed()
        },
        onChannel: (delta) => {
          mine.open += delta
          if (delta > 0) checkDemand()
        },
      })
      up.delete(slot)
      spread.ended(slot, url)
      channels.delete(slot)
      if (abort.signal.aborted) break
      if (outcome.kind === 'fatal') {
        fatal = outcome.message
        abort.abort()
        break
      }
      if (outcome.kind === 'idle') {
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
      const delay = backoffDelay(attempt++)
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

  Promise.all(Array.from({ length: wanted }, (_, i) => loop(i))).then(() =>
    resolveDone(fatal === undefined ? { ok: true, message: 'stopped' } : { ok: false, message: fatal }),
  )
  return {
    done,
    status,
    stop: () => abort.abort(),
  }
}
