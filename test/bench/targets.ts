/**
 * What the workloads go through: direct to the origin, OpenSSH `ssh -R` (two flavours) via the
 * private sshd, or Burrow's gateway (Bun, Deno or Node) with a Bun agent. Starting a target also
 * measures the time from starting the forwarding client to the first proxied 200.
 */
import { join } from 'node:path'
import { runtimeCommand, startGateway, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { startSshForward, type PrivateSshd, type SshFlavour } from './private-sshd.ts'
import { descendants, spawnLogged, stopOwned, tree, until, type OwnedProc } from './procs.ts'
import { BUN_DEFAULT_ALLOCATOR_ENV, NO_RATE_LIMITS, GATEWAY_START, SHIPPED_BUN_ENV } from './gateway-env.ts'

/**
 * `burrow-bun-lean`: Burrow on Bun with REQUEST_METRICS=0 (no latency histograms, inspector or
 * timeline), the "before" of the per-request bookkeeping in the same run. `burrow-bun-purging`:
 * Burrow on Bun with Bun's own allocator settings (gateway and agent), the "before" of
 * SHIPPED_BUN_ENV. Every other Burrow target runs its gateway and its Bun agent as shipped.
 */
export type TargetId = 'direct' | 'ssh-n' | 'ssh-nodelay' | 'burrow-bun' | 'burrow-bun-lean' | 'burrow-bun-purging' | 'burrow-deno' | 'burrow-node'

export const TARGET_LABELS: Record<TargetId, string> = {
  direct: 'direct',
  'ssh-n': 'OpenSSH -N',
  'ssh-nodelay': 'OpenSSH NODELAY',
  'burrow-bun': 'Burrow Bun',
  'burrow-bun-lean': 'Burrow Bun REQUEST_METRICS=0',
  'burrow-bun-purging': 'Burrow Bun, mimalloc defaults',
  'burrow-deno': 'Burrow Deno',
  'burrow-node': 'Burrow Node',
}

export interface RunningTarget {
  readonly id: TargetId
  /** URL prefix that maps to the origin's root, e.g. `http://127.0.0.1:P/t/alice`. */
  readonly base: string
  readonly headers: Record<string, string>
  /** ms from spawning the forwarding client to the first 200 through it (undefined for direct). */
  readonly startupMs: number | undefined
  /** The tunnel's processes right now (for CPU and RSS); empty for direct. */
  pids(): number[]
  /** Burrow only: the gateway's processes, so its share of the CPU shows on its own. */
  gatewayPids?(): number[]
  /** Warnings and errors the tunnel's processes printed, for the report. */
  complaints(): string[]
  stop(): Promise<void>
}

export interface TargetContext {
  readonly originPort: number
  readonly sshd: PrivateSshd | undefined
  readonly workDir: string
  readonly agentConnections: number
  /** Unique suffix for log file names. */
  readonly tag: string
}

async function firstOk(url: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  return until(async () => {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) })
    await res.arrayBuffer()
    return res.status === 200
  }, timeoutMs, 5)
}

/** Lines of a log that look like trouble (warn/error JSON logs, stack traces, refusals). */
function troubleLines(text: string, ignore: RegExp[] = []): string[] {
  return text
    .split('\n')
    .filter((l) => /"level":"(warn|error)"|error|Error|refused|closed|reconnecting|timed out/i.test(l))
    .filter((l) => !ignore.some((re) => re.test(l)))
    .map((l) => l.slice(0, 400))
}

export async function startTarget(id: TargetId, ctx: TargetContext): Promise<RunningTarget> {
  const originBase = `http://127.0.0.1:${ctx.originPort}`
  if (id === 'direct') {
    return { id, base: originBase, headers: {}, startupMs: undefined, pids: () => [], complaints: () => [], stop: async () => {} }
  }
  if (id === 'ssh-n' || id === 'ssh-nodelay') {
    if (ctx.sshd === undefined) throw new Error('OpenSSH targets need the private sshd')
    const sshd = ctx.sshd
    const flavour: SshFlavour = id === 'ssh-n' ? 'plain' : 'session'
    const t0 = performance.now()
    const fwd = await startSshForward(sshd, ctx.originPort, flavour, join(ctx.workDir, `${id}-${ctx.tag}.log`))
    const base = `http://127.0.0.1:${fwd.remotePort}`
    const ok = await until(async () => {
      if (fwd.proc.child.exitCode !== null) throw new Error('ssh exited')
      return await firstOk(`${base}/1k`, {}, 2000)
    }, 20_000, 5)
    const startupMs = performance.now() - t0
    if (!ok) {
      await stopOwned(fwd.proc)
      throw new Error(`ssh -R did not forward within 20 s:\n${fwd.proc.log().slice(-2000)}`)
    }
    return {
      id,
      base,
      headers: {},
      startupMs,
      // The client, and sshd's per-connection processes (the listener itself only accepts).
      pids: () => [...tree(fwd.proc.pid), ...descendants(sshd.proc.pid)],
      complaints: () => troubleLines(fwd.proc.log()),
      stop: () => stopOwned(fwd.proc),
    }
  }
  const lean = id === 'burrow-bun-lean'
  const allocator = id === 'burrow-bun-purging' ? BUN_DEFAULT_ALLOCATOR_ENV : SHIPPED_BUN_ENV
  const runtime = (id.startsWith('burrow-bun') ? 'bun' : id.slice('burrow-'.length)) as RuntimeName
  const gw = await startGateway(runtime, { ...NO_RATE_LIMITS, ...allocator, ...(lean ? { REQUEST_METRICS: '0' } : {}), BURROW_DATA_DIR: join(ctx.workDir, `data-${id}-${ctx.tag}`) }, GATEWAY_START)
  // A day: an agent warns an hour before its token expires, which the bench would list as a problem.
  const token = await tokenFor('alice', 24 * 3600)
  const headers = { authorization: `Bearer ${token}` }
  const base = `${gw.url}/t/alice`
  const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['connect', '--server', gw.url, '--token', token, '--to', originBase, '--connections', String(ctx.agentConnections)])
  const t0 = performance.now()
  let agent: OwnedProc | undefined
  try {
    agent = spawnLogged(`agent-${id}`, cmd, args, join(ctx.workDir, `agent-${id}-${ctx.tag}.log`), { ...allocator })
    const a = agent
    const ok = await until(async () => {
      if (a.child.exitCode !== null) throw new Error('agent exited')
      return await firstOk(`${base}/1k`, headers, 2000)
    }, 30_000, 5)
    const startupMs = performance.now() - t0
    if (!ok) throw new Error(`no 200 through Burrow (${runtime}) within 30 s:\nagent: ${a.log().slice(-1500)}\ngateway: ${gw.proc.output().slice(-1500)}`)
    // Measure with the whole pool up, not just the first connection.
    const wanted = `connected (${ctx.agentConnections}/${ctx.agentConnections})`
    await until(async () => a.log().includes(wanted), 20_000, 20)
    return {
      id,
      base,
      headers,
      startupMs,
      pids: () => [...tree(gw.proc.child.pid!), ...tree(a.pid)],
      gatewayPids: () => tree(gw.proc.child.pid!),
      // The agent prints its status line on state changes and its served count once a second; only the trouble matters here.
      complaints: () => [
        ...troubleLines(gw.proc.output()).map((l) => `gateway: ${l}`),
        ...troubleLines(a.log(), [/^burrow agent: connected \(\d+\/\d+\) \| requests served: \d+$/, /"event":"agent_status","status":"burrow agent: connected \(\d+\/\d+\) \| requests served: \d+"/]).map((l) => `agent: ${l}`),
      ],
      stop: async () => {
        await stopOwned(a)
        gw.proc.kill('SIGKILL')
        await gw.proc.exited()
      },
    }
  } catch (err) {
    if (agent !== undefined) await stopOwned(agent)
    gw.proc.kill('SIGKILL')
    await gw.proc.exited()
    throw err
  }
}
