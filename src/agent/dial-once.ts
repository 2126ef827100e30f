import type { Agent as HttpAgent } from 'node:http'
import type { ClientChannel } from 'ssh2'
import ssh2 from '../wire/ssh2.ts'
import WebSocket from 'ws'
import type { Logger } from '../log/logger.ts'
import { fingerprintOfBlob, IDLE_SURPLUS_REASON, USER_LIMIT_REASON, MISSED_KEEPALIVES, peekRequestId, readAgentLimits, WS_CLOSE, type AgentLimits } from '../wire/index.ts'
import { SSH_ALGORITHMS } from '../transport/ssh-algorithms.ts'
import { WsDuplex, wsClientFrames } from '../transport/ws-duplex.ts'
import { dialTarget, type LocalTarget } from './local-target.ts'
import { readRefusal } from './refused-upgrade.ts'
import { retryAfterMs } from './retry-after.ts'
import { splice } from './splice.ts'
import { describeTlsFailure } from './tls-trust.ts'
import { watchSilence, type SilenceWatchdog } from './silence-watchdog.ts'

// When SSH ends first, how long to wait for the WebSocket close frame that says why (its reason).
const CLOSE_REASON_WAIT_MS = 250

// How long a local socket may stay half-open after the gateway ended its channel.
const HALF_OPEN_GRACE_MS = 2_000
/** How much of a request's first chunk is searched for its X-Request-Id (debug only). */
const HEAD_PEEK_BYTES = 8192

export interface DialOptions {
  readonly url: string
  readonly token: string
  readonly user: string
  readonly agentId: string
  /** Which of the agent's connections this is (0, 1, …): the gateway lets it replace only its own dead slot. */
  readonly slot: number
  readonly isPublic: boolean
  /** `preserve` or the Host value the gateway should send the local service (agent.ts). */
  readonly hostHeader: string
  readonly target: LocalTarget
  readonly fingerprint: string | undefined
  /** PEM certificates to trust for a wss gateway instead of the system's store (`--ca`). */
  readonly ca: string | undefined
  /** Dials through an HTTP CONNECT proxy (proxy.ts), or directly when undefined. */
  readonly proxyAgent?: HttpAgent | undefined
  readonly keepaliveInterval: number
  readonly log: Logger
  readonly signal: AbortSignal
  /**
   * Aborted when the agent begins to stop: cancel the forward (the gateway takes the connection
   * out of its pool and routes no more requests here) and let the open channels finish; `signal`
   * ends the connection afterwards.
   */
  readonly drain?: AbortSignal | undefined
  /** The tunnel is registered and serving. */
  onUp(fingerprint: string): void
  /** A request arrived for the local service (counted per HTTP turn on a channel). */
  onServed(): void
  /** The WebSocket upgrade was answered; `instance` is the gateway's Burrow-Instance, if it named one. */
  onInstance?(instance: string | undefined): void
  /** The gateway's budget, from the upgrade's response (before `onUp`). */
  onLimits(limits: AgentLimits): void
  /** A forwarded channel opened (+1) or closed (-1): the agent's measure of load (demand.ts). */
  onChannel(delta: 1 | -1): void
}

/**
 * How one connection ended: `fatal` stops the agent (retrying cannot help), `retry` reconnects,
 * `idle` means the gateway retired it as idle surplus: redial only when load needs it.
 */
export type DialOutcome =
  | { kind: 'fatal'; message: string; /** the gateway refused the token (401/403) */ tokenRejected?: boolean }
  | {
      kind: 'retry'
      message: string
      wasUp: boolean
      /** Refused: the user's connection limit is taken. */
      atLimit?: boolean
      /** The gateway's Retry-After on a 429 or 503, ms: wait at least this long. */
      retryAfterMs?: number
    }
  | { kind: 'idle'; message: string }

function normaliseFingerprint(f: string): string {
  return f.startsWith('SHA256:') ? f : `SHA256:${f}`
}

/**
 * ssh2's `reject()` sends a channel-open failure with an empty description. The description is
 * what the gateway shows the consumer, so it is filled in for this one call, through ssh2's own
 * packet writer (as transport/ssh-disconnect.ts does for DISCONNECT).
 */
function rejectWithDescription(client: InstanceType<typeof ssh2.Client>, reject: () => void, description: string): void {
  const protocol = (client as unknown as { _protocol?: { channelOpenFail?: (id: number, reason: number, desc: string) => void } })._protocol
  const original = protocol?.channelOpenFail
  if (protocol === undefined || typeof original !== 'function') return reject()
  protocol.channelOpenFail = (id, reason) => original.call(protocol, id, reason, description)
  try {
    reject()
  } finally {
    delete protocol.channelOpenFail
  }
}

/** One agent connection: WebSocket → SSH → `tcpip-forward`, until it ends. */
export function dialOnce(o: DialOptions): Promise<DialOutcome> {
  return new Promise<DialOutcome>((resolve) => {
    let settled = false
    let up = false
    let seenFingerprint = ''
    let hostKeyMismatch: string | undefined
    let watchdog: SilenceWatchdog | undefined
    const finish = (outcome: DialOutcome) => {
      if (settled) return
      settled = true
      watchdog?.stop()
      o.signal.removeEventListener('abort', onAbort)
      o.drain?.removeEventListener('abort', onDrain)
      ssh.end()
      duplex.destroy()
      resolve(outcome)
    }
    const ws = new WebSocket(o.url, {
      headers: {
        authorization: `Bearer ${o.token}`,
        'x-burrow-agent-id': o.agentId,
        'burrow-agent-slot': String(o.slot),
        'burrow-host-header': o.hostHeader,
        ...(o.isPublic ? { 'x-burrow-public': '1' } : {}),
      },
      perMessageDeflate: false,
      handshakeTimeout: 20_000,
      ...(o.ca === undefined ? {} : { ca: o.ca }),
      ...(o.proxyAgent === undefined ? {} : { agent: o.proxyAgent }),
    })
    ws.binaryType = 'nodebuffer'
    ws.once('upgrade', (res) => {
      const instance = res.headers['burrow-instance']
      o.onInstance?.(typeof instance === 'string' && instance !== '' ? instance : undefined)
    })
    ws.on('upgrade', (res) => o.onLimits(readAgentLimits(res.headers)))
    // Frames of at most 64 KiB: on a slow uplink the gateway still gets whole messages often.
    const duplex = new WsDuplex(wsClientFrames(ws), { maxFrameBytes: 64 * 1024 })
    // Listen before 'open': the gateway's SSH ident can arrive in the same tick.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      watchdog?.alive()
      if (isBinary) duplex.receive(data)
    })
    ws.on('unexpected-response', (_req, res) => {
      const told = res.statusCode === 429 || res.statusCode === 503 ? retryAfterMs(res.headers['retry-after'], Date.now()) : undefined
      readRefusal(res, ({ status, detail }) => {
        const why = detail === '' ? '' : `: ${detail}`
        if (status === 401 || status === 403) finish({ kind: 'fatal', message: `the gateway rejected the token (${status})${why}`, tokenRejected: true })
        else finish({ kind: 'retry', message: `the gateway answered ${status}${why}`, wasUp: false, ...(told === undefined ? {} : { retryAfterMs: told }) })
      })
    })
    ws.on('error', (err: Error) => {
      // An untrusted certificate stays untrusted: stop and say what to change, as for a host key.
      const tls = describeTlsFailure(err, o.url, o.ca !== undefined)
      if (tls !== undefined) finish({ kind: 'fatal', message: tls })
      else finish({ kind: 'retry', message: `cannot reach the gateway: ${err.message}`, wasUp: up })
    })
    ws.on('close', (code: number, reason: Buffer) => {
      duplex.remoteClosed()
      const why = reason.toString('utf8') || `WebSocket closed (${code})`
      if (code === WS_CLOSE.normal && why === IDLE_SURPLUS_REASON) return finish({ kind: 'idle', message: why })
      if (code === WS_CLOSE.policy) return finish({ kind: 'retry', message: `refused by the gateway: ${why}`, wasUp: up, atLimit: why.startsWith(USER_LIMIT_REASON) })
      finish({ kind: 'retry', message: why, wasUp: up })
    })

    const ssh = new ssh2.Client()
    ssh.on('error', (err: Error) => {
      if (hostKeyMismatch !== undefined) finish({ kind: 'fatal', message: hostKeyMismatch })
      else o.log.debug('agent_ssh_error', { message: err.message })
    })
    ssh.on('close', () => {
      // The gateway's reason ('server shutting down', 'closed by admin') travels in the WebSocket
      // close frame, which may land just after SSH noticed the end: give it a moment.
      if (ws.readyState === WebSocket.CLOSED) return finish({ kind: 'retry', message: 'SSH session closed', wasUp: up })
      setTimeout(() => finish({ kind: 'retry', message: 'SSH session closed', wasUp: up }), CLOSE_REASON_WAIT_MS)
    })
    ssh.on('ready', () => {
      ssh.forwardIn('localhost', 80, (err) => {
        // A refusal's reason follows in the WebSocket close frame (e.g. the user connection limit).
        if (err) return
        up = true
        o.onUp(seenFingerprint)
        // The agent began to stop while this forward was on its way: take it back at once.
        if (o.drain?.aborted === true) onDrain()
      })
    })
    ssh.on('tcp connection', (_info, accept, reject) => {
      // Stopping, a channel still comes for a request the gateway leased before our cancel reached
      // it: serve it (the gateway routes nothing new here once it has the cancel).
      dialTarget(o.target).then(
        (socket) => {
          const channel: ClientChannel = accept()
          o.onChannel(1)
          channel.once('close', () => o.onChannel(-1))
          splice(socket, channel)
          // The gateway never half-closes a channel it still wants answers on: once it sent EOF
          // the pipe ends our socket; a service that keeps its half open must not pin it forever.
          channel.once('end', () => setTimeout(() => socket.destroy(), HALF_OPEN_GRACE_MS).unref?.())
          // Channels are kept alive across requests, so count requests, not channels: HTTP/1.1 on
          // a channel takes turns (request bytes, then response bytes), and the gateway never
          // pipelines; a new turn of gateway→service bytes after response bytes is a new request.
          // The service answered since the last request bytes when its socket has read more: no
          // listener on the socket for this (a second 'data' listener costs every chunk a copy
          // of the listener list).
          let answeredUpTo = -1
          channel.on('data', (chunk: Buffer) => {
            if (answeredUpTo !== socket.bytesRead) {
              o.onServed()
              // At debug, the id the gateway wrote into the head it forwards: one request can be
              // followed from the consumer through both logs to the service (README "Request ids").
              if (o.log.enabled('debug')) o.log.debug('agent_request', { requestId: peekRequestId(chunk.toString('latin1', 0, HEAD_PEEK_BYTES)) ?? null })
            }
            answeredUpTo = socket.bytesRead
          })
        },
        (err: Error & { code?: string }) => {
          const target = `${o.target.host}:${o.target.port}`
          o.log.warn('local_target_unreachable', { target, message: err.message })
          // The gateway puts this in its 502: say which connect failed and why (as OpenSSH does).
          rejectWithDescription(ssh, reject, `connect to ${target} failed: ${err.code ?? err.message}`)
        },
      )
    })

    ws.on('open', () => {
      const silentMs = MISSED_KEEPALIVES * o.keepaliveInterval
      watchdog = watchSilence(silentMs, (silentFor) => {
        o.log.warn('agent_gateway_silent', { silentForMs: silentFor })
        finish({ kind: 'retry', message: `no sign of life from the gateway for ${silentFor} ms`, wasUp: up })
        // Nobody is there to answer a close frame: cut the socket now instead of after the handshake wait.
        ws.terminate()
      })
      ssh.connect({
        sock: duplex as never,
        username: o.user,
        algorithms: SSH_ALGORITHMS,
        readyTimeout: 20_000,
        keepaliveInterval: o.keepaliveInterval,
        // ssh2's client counts only replies to its own pings, and a ping waits behind everything
        // this agent is sending: on a slow uplink a busy connection looked dead (issue 14). It
        // still pings (the answers are bytes received); the silence watchdog, which counts any
        // bytes from the gateway, window adjusts included, is what declares it dead.
        keepaliveCountMax: Number.MAX_SAFE_INTEGER,
        hostVerifier: (key: Buffer) => {
          seenFingerprint = fingerprintOfBlob(key)
          if (o.fingerprint === undefined) return true
          if (seenFingerprint === normaliseFingerprint(o.fingerprint)) return true
          hostKeyMismatch = `the gateway's host key ${seenFingerprint} does not match --fingerprint ${normaliseFingerprint(o.fingerprint)}; refusing to connect`
          return false
        },
      })
    })

    const onDrain = () => {
      if (up) ssh.unforwardIn('localhost', 80, (err) => err && o.log.debug('agent_unforward_failed', { message: err.message }))
    }
    o.drain?.addEventListener('abort', onDrain, { once: true })
    const onAbort = () => {
      ws.close(WS_CLOSE.normal, 'agent stopping')
      finish({ kind: 'retry', message: 'stopped', wasUp: up })
    }
    o.signal.addEventListener('abort', onAbort, { once: true })
  })
}
