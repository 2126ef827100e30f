/**
 * Fuzz campaigns against a running stage (harness.ts): `count` mutated cases sent over `concurrency`
 * connections at a time, while a monitor samples the gateway's RSS, checks that it is alive, and
 * that /healthz and bob's honest tunnel keep answering within a bound (a hang shows up there).
 */
import { connect, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { alive, rssOf, type Stage } from '../support/harness.ts'
import { frame, OP, parseFrames } from '../support/raw-ws.ts'
import { mutate, rng, HTTP_WORDS, SSH_WORDS, type Rng } from './mutator.ts'

export interface CampaignOptions {
  readonly count: number
  readonly seed: number
  readonly concurrency: number
}

export interface CampaignReport {
  readonly kind: string
  readonly runtime: string
  readonly count: number
  readonly durationMs: number
  /** How cases ended: an HTTP status, a WebSocket close code, `closed`, `timeout`. */
  readonly outcomes: Record<string, number>
  readonly rss: { readonly before: number; readonly peak: number; readonly after: number }
  readonly probes: number
  /** What went wrong: a crash, a probe that did not answer in time, a 500. Empty on success. */
  readonly failures: string[]
}

const PROBE_EVERY_MS = 1000
const PROBE_TIMEOUT_MS = 5000
const CASE_CAP_MS = 3000

/** Run `one(i)` for i in [0, count) over `concurrency` workers, with the monitor alongside. */
async function run(stage: Stage, kindName: string, opts: CampaignOptions, one: (i: number, r: Rng) => Promise<string>): Promise<CampaignReport> {
  const kind = `${stage.runtime} ${kindName}`
  const pid = stage.gw.proc.child.pid!
  const outcomes: Record<string, number> = {}
  const failures: string[] = []
  const before = rssOf(pid)
  let peak = before
  let probes = 0
  let done = false
  const started = Date.now()
  const monitor = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS))
      if (!alive(stage.gw.proc)) {
        failures.push(`${kind}: the gateway exited (${stage.gw.proc.child.exitCode ?? stage.gw.proc.child.signalCode})`)
        return
      }
      peak = Math.max(peak, rssOf(pid))
      const probe = await probeOnce(stage)
      probes++
      if (probe !== 'ok') failures.push(`${kind}: ${probe} after ${Date.now() - started} ms`)
    }
  })()
  let next = 0
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.count && alive(stage.gw.proc)) {
        const i = next++
        const outcome = await one(i, rng(opts.seed * 1_000_003 + i))
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
        if (outcome === '500') failures.push(`${kind}: case ${i} (seed ${opts.seed}) got a 500`)
      }
    }),
  )
  done = true
  await monitor
  const final = await probeOnce(stage)
  if (final !== 'ok') failures.push(`${kind}: ${final} after the campaign`)
  if (!alive(stage.gw.proc)) failures.push(`${kind}: the gateway exited`)
  const after = alive(stage.gw.proc) ? rssOf(pid) : 0
  return { kind: kindName, runtime: stage.runtime, count: opts.count, durationMs: Date.now() - started, outcomes, rss: { before, peak: Math.max(peak, after), after }, probes: probes + 1, failures }
}

/** /healthz, and a POST through bob's tunnel answered by bob's service, each within the bound. */
export async function probeOnce(stage: Stage): Promise<string> {
  const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS)
  try {
    const health = await fetch(`${stage.gw.url}/healthz`, { signal })
    if (health.status !== 200) return `/healthz answered ${health.status}`
    const body = `probe-${Math.random()}`
    const res = await fetch(`${stage.gw.url}/t/bob/probe`, { method: 'POST', body, headers: { authorization: `Bearer ${stage.bob}` }, signal })
    const seen = (await res.json()) as { origin?: string; bodySize?: number }
    if (res.status !== 200 || seen.origin !== 'B' || seen.bodySize !== body.length) return `bob's tunnel answered ${res.status} ${JSON.stringify(seen).slice(0, 120)}`
    return 'ok'
  } catch (err) {
    return `a probe failed: ${(err as Error).message}`
  }
}

/** Open a socket, write `pieces`, and wait for the outcome (capped). */
function exchangeRaw(port: number, pieces: Buffer[], halfClose: boolean, classify: (data: Buffer) => string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let settled = false
    const settle = (outcome: string) => {
      if (settled) return
      settled = true
      clearTimeout(cap)
      socket.destroy()
      resolve(outcome)
    }
    const cap = setTimeout(() => settle(chunks.length > 0 ? classify(Buffer.concat(chunks)) : 'timeout'), halfClose ? CASE_CAP_MS : 300)
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('close', () => settle(chunks.length > 0 ? classify(Buffer.concat(chunks)) : 'closed'))
    socket.on('connect', () => {
      for (const p of pieces) socket.write(p)
      if (halfClose) socket.end()
    })
  })
}

const statusOf = (data: Buffer) => /^HTTP\/1\.[01] (\d{3})/.exec(data.toString('latin1', 0, 16))?.[1] ?? 'garbled'

/** `count` malformed HTTP requests: mutated well-formed ones, written in 1-3 pieces. */
export function fuzzHttp(stage: Stage, seeds: Buffer[], opts: CampaignOptions): Promise<CampaignReport> {
  return run(stage, 'http', opts, (_i, r) => {
    const bytes = mutate(r.pick(seeds), r, { words: HTTP_WORDS, maxBytes: 64 * 1024 }, seeds)
    const cut = [0, r.int(bytes.length + 1), bytes.length].sort((a, b) => a - b)
    const pieces = [bytes.subarray(cut[0], cut[1]), bytes.subarray(cut[1], cut[2])].filter((p) => p.length > 0)
    return exchangeRaw(stage.gw.port, pieces, r.chance(0.8), statusOf)
  })
}

/** The close code of the first close frame after a 101, else how the HTTP upgrade was answered. */
function wsOutcome(data: Buffer): string {
  const text = data.toString('latin1', 0, Math.min(data.length, 4096))
  const status = statusOf(data)
  if (status !== '101') return status
  const end = text.indexOf('\r\n\r\n')
  const close = parseFrames(data.subarray(end + 4)).frames.find((f) => f.opcode === OP.close)
  return close === undefined ? 'ws-no-close-frame' : `ws-${close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005}`
}

/** Split `payload` into WebSocket frames, mostly as a client would, sometimes not. */
function framesOf(payload: Buffer, r: Rng): Buffer[] {
  const out: Buffer[] = []
  let off = 0
  while (off < payload.length || out.length === 0) {
    const n = Math.min(payload.length - off, 1 + r.int(Math.max(1, payload.length)))
    const part = payload.subarray(off, off + n)
    off += n
    if (r.chance(0.85)) out.push(frame(OP.binary, part))
    else {
      const opcode = r.pick([OP.text, OP.continuation, OP.ping, OP.pong, OP.close, 3, 11, 15])
      out.push(frame(opcode, part.subarray(0, 125), { fin: r.chance(0.7), rsv: r.chance(0.2) ? r.int(8) : 0, mask: r.chance(0.9), declaredLength: r.chance(0.1) ? r.int(1 << 20) : undefined }))
    }
    if (off >= payload.length) break
  }
  return out
}

function upgradeRequest(port: number, token: string): Buffer {
  return Buffer.from(
    `GET /tunnel HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
      `Sec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    'latin1',
  )
}

/**
 * `count` malformed WebSocket/SSH byte sequences: a recorded SSH flight, cut and mutated, sent in
 * (mostly) well-formed frames after a real upgrade; mutated frame streams; and, when `sshPort` is
 * given, mutated flights on raw TCP to SSH_PORT.
 */
export function fuzzWsSsh(stage: Stage, token: string, flight: Buffer[], sshPort: number | undefined, opts: CampaignOptions): Promise<CampaignReport> {
  const flightBytes = Buffer.concat(flight)
  return run(stage, 'ws-ssh', opts, (_i, r) => {
    const prefix = Buffer.concat(flight.slice(0, 1 + r.int(flight.length)))
    const ssh = mutate(prefix, r, { words: SSH_WORDS, maxBytes: 256 * 1024 }, [flightBytes])
    const roll = r.next()
    if (sshPort !== undefined && roll < 0.2) return exchangeRaw(sshPort, [ssh], r.chance(0.8), () => 'ssh-replied')
    const upgrade = upgradeRequest(stage.gw.port, token)
    if (roll < 0.45) {
      // Frame-level: valid frames carrying the flight, then the byte stream itself mutated.
      const stream = mutate(Buffer.concat(flight.map((p) => frame(OP.binary, p))), r, { words: SSH_WORDS, maxBytes: 256 * 1024 })
      return exchangeRaw(stage.gw.port, [upgrade, stream], r.chance(0.8), wsOutcome)
    }
    return exchangeRaw(stage.gw.port, [upgrade, ...framesOf(ssh, r)], r.chance(0.8), wsOutcome)
  })
}
