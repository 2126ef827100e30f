/**
 * The stage for the attacks in test/security: a real gateway process (Bun, Deno or Node), two
 * users with a tunnel each, and a probe origin behind each tunnel that records what reached it.
 * Alice's tunnel is the one attacked; bob's is the honest tunnel that must keep serving correct
 * responses afterwards (`expectHonestTunnel`).
 */
import { createHash } from 'node:crypto'
import { connect } from 'node:net'
import { readFileSync } from 'node:fs'
import { runtimeCommand, startAgent, startGateway, startProcess, type GatewayProc, type Proc, type RuntimeName } from '../../support/processes.ts'
import { tokenFor } from '../../support/tokens.ts'

export const RUNTIMES: readonly RuntimeName[] = ['bun', 'deno', 'node']
export const BASE_DOMAIN = 'burrow.test'

export interface ProbeOrigin {
  readonly name: string
  readonly proc: Proc
  readonly port: number
  readonly url: string
}

/** What a probe origin recorded: one entry per request (and WebSocket upgrade) that reached it. */
export interface Seen {
  readonly requests: { method: string; url: string; rawHeaders: string[]; bodySize: number; bodySha256: string }[]
  readonly parseErrors: string[]
}

export async function startProbeOrigin(name: string): Promise<ProbeOrigin> {
  const [cmd, args] = runtimeCommand('bun', 'test/fixtures/probe-origin.ts', [name])
  const proc = startProcess(cmd, args)
  const port = Number((await proc.waitFor(/listening (\d+)/))[1])
  return { name, proc, port, url: `http://127.0.0.1:${port}` }
}

/** Read and clear what `origin` has seen (asked directly, never through a tunnel). */
export async function seenBy(origin: ProbeOrigin): Promise<Seen> {
  return (await (await fetch(`${origin.url}/__seen`)).json()) as Seen
}

export interface Stage {
  readonly runtime: RuntimeName
  readonly gw: GatewayProc
  readonly alice: string
  readonly bob: string
  /** Alice's local service (the attacked tunnel) and bob's (the honest one). */
  readonly originA: ProbeOrigin
  readonly originB: ProbeOrigin
}

/** Gateway on `runtime` with Host routing on burrow.test, alice → originA, bob → originB. */
export async function startStage(runtime: RuntimeName, env: Record<string, string> = {}): Promise<Stage> {
  const [originA, originB, gw] = await Promise.all([
    startProbeOrigin('A'),
    startProbeOrigin('B'),
    // No circuit breaker: these tests make the service fail on purpose, many times in a row.
    startGateway(runtime, { BURROW_BASE_DOMAIN: BASE_DOMAIN, CIRCUIT_BREAKER_FAILURES: '0', ...env }),
  ])
  const [alice, bob] = await Promise.all([tokenFor('alice'), tokenFor('bob')])
  await Promise.all([startAgent(gw.url, alice, originA.url), startAgent(gw.url, bob, originB.url)])
  await Promise.all([seenBy(originA), seenBy(originB)])
  return { runtime, gw, alice, bob, originA, originB }
}

/**
 * Bob's tunnel still works and answers correctly: a POST with a body reaches bob's service with
 * the right path, query, body and no Authorization, and the answer comes back whole.
 */
export async function expectHonestTunnel(stage: Stage, expect: typeof import('bun:test').expect): Promise<void> {
  const body = `honest ${Math.random()}`
  const res = await fetch(`${stage.gw.url}/t/bob/after-attack?q=1`, { method: 'POST', headers: { authorization: `Bearer ${stage.bob}` }, body })
  const seen = (await res.json()) as { origin: string; url: string; bodySha256: string; rawHeaders: string[] }
  expect({ status: res.status, origin: seen.origin, url: seen.url }).toEqual({ status: 200, origin: 'B', url: '/after-attack?q=1' })
  expect(seen.bodySha256).toBe(createHash('sha256').update(body).digest('hex'))
  expect(seen.rawHeaders.map((h) => h.toLowerCase())).not.toContain('authorization')
}

export interface RawReply {
  /** Everything the gateway sent back, as latin1 text. */
  readonly text: string
  readonly status: number
  /** The gateway closed the connection (within the wait). */
  readonly closed: boolean
}

/**
 * Write raw bytes to the gateway and collect the answer until it closes the connection, or until
 * `quietMs` passed without a byte after something arrived, or `maxMs` in all (then `closed` is false).
 */
export function rawHttp(port: number, data: string | Buffer, opts: { quietMs?: number; maxMs?: number; localAddress?: string } = {}): Promise<RawReply> {
  const quietMs = opts.quietMs ?? 300
  const maxMs = opts.maxMs ?? 5000
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: opts.localAddress })
    let text = ''
    let done = false
    let quiet: ReturnType<typeof setTimeout> | undefined
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(quiet)
      clearTimeout(overall)
      socket.destroy()
      resolve({ text, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), closed })
    }
    const overall = setTimeout(() => finish(false), maxMs)
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1')
      clearTimeout(quiet)
      quiet = setTimeout(() => finish(false), quietMs)
    })
    socket.on('error', () => {})
    socket.on('close', () => finish(true))
    socket.write(data)
  })
}

/** The JSON body of a raw reply (chunked or not), or undefined. */
export function jsonOf(reply: RawReply): any {
  const body = reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4)
  const start = body.indexOf('{')
  const end = body.lastIndexOf('}')
  if (start < 0 || end < start) return undefined
  try {
    return JSON.parse(body.slice(start, end + 1))
  } catch {
    return undefined
  }
}

/** The port of the gateway's SSH_PORT listener (start it with `SSH_PORT: '0'`). */
export async function sshPortOf(gw: GatewayProc): Promise<number> {
  return Number((await gw.proc.waitFor(/SSH listener: \S+:(\d+)/))[1])
}

/** Resident memory of a process in bytes (Linux /proc), for memory bounds. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1] ?? 0) * 1024
}

/** The process is still running (not crashed). */
export function alive(proc: Proc): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null
}
