/**
 * `bun run bench`: one command, one run, loopback only, every loop bounded. Starts a lean origin, a
 * private sshd, and measures the same workloads direct, through OpenSSH `ssh -R` (plain `-N` and
 * with a session channel, i.e. NODELAY), and through Burrow with its gateway on Bun, Deno and Node.
 * Each configuration runs `--passes` times (2), interleaved, so the spread shows a shared machine.
 * Progress goes to stderr; the table (or `--json`) to stdout. See docs/BENCHMARKS.md.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runtimeCommand, stopAll } from '../support/processes.ts'
import { measureBurst } from './burst.ts'
import { measureIdleRss } from './idle-rss.ts'
import { measureCluster } from './cluster-hop.ts'
import { measureManyUsers } from './many-users.ts'
import { runDownload, runSse, runUpload, runWrk } from './load.ts'
import { describeMachine, loadAverage } from './machine.ts'
import { parseBenchArgs, USAGE, type BenchOptions } from './options.ts'
import { startPrivateSshd, type PrivateSshd } from './private-sshd.ts'
import { cpuDelta, cpuSeconds, killOwned, rssSumKiB, sleep, spawnLogged, until } from './procs.ts'
import { checkTargets, renderChecks, renderTable, type BenchResults, type Figures } from './report.ts'
import { startTarget, TARGET_LABELS, type RunningTarget, type TargetId } from './targets.ts'
import { ensureTools } from './tools.ts'
import { ensureBuilt } from '../support/build.ts'

const started = performance.now()
const elapsed = () => (performance.now() - started) / 1000
const progress = (msg: string) => process.stderr.write(`[${elapsed().toFixed(1).padStart(6)} s] ${msg}\n`)

let opts: BenchOptions
try {
  const parsed = parseBenchArgs(process.argv.slice(2))
  if (parsed === 'help') {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  opts = parsed
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}

const workDir = mkdtempSync(join(tmpdir(), 'burrow-bench-'))
let cleaning: Promise<void> | undefined
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await killOwned()
    await stopAll()
    if (opts.keep) progress(`logs kept in ${workDir}`)
    else rmSync(workDir, { recursive: true, force: true })
  })()
  return cleaning
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    progress(`${sig}: stopping everything the bench started`)
    cleanup().finally(() => process.exit(130))
  })
}

const problems: string[] = []
const detail: Record<string, unknown> = {}
const passes: Partial<Record<TargetId, Figures[]>> = {}
const has = (w: Parameters<typeof opts.workloads.has>[0]) => opts.workloads.has(w)

async function startOrigin(): Promise<number> {
  const [cmd, args] = runtimeCommand('bun', 'test/bench/origin.ts', ['0'])
  const proc = spawnLogged('origin', cmd, args, join(workDir, 'origin.log'))
  let port = 0
  const ok = await until(async () => {
    const m = /listening (\d+)/.exec(proc.log())
    if (m !== null) port = Number(m[1])
    return m !== null
  }, 20_000, 20)
  if (!ok) throw new Error(`the bench origin did not start:\n${proc.log()}`)
  return port
}

/** Run one step; a failure is recorded as a problem and the run goes on. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn()
  } catch (err) {
    const msg = `${what}: ${(err as Error).message.split('\n').slice(0, 8).join('\n    ')}`
    problems.push(msg)
    progress(`FAILED ${msg}`)
    return undefined
  }
}

function noteWrkErrors(what: string, e: { connect: number; read: number; write: number; status: number; timeout: number }): void {
  const parts = Object.entries(e).filter(([, n]) => n > 0)
  if (parts.length > 0) problems.push(`${what}: wrk counted ${parts.map(([k, n]) => `${n} ${k === 'status' ? 'non-2xx/3xx' : k} errors`).join(', ')}`)
}

async function measureTarget(t: RunningTarget, pass: number, uploadFile: string): Promise<Figures> {
  const figs: Figures = {}
  const label = `pass ${pass}/${opts.passes} ${TARGET_LABELS[t.id]}`
  const tag = `${t.id}-p${pass}`
  const d: Record<string, unknown> = {}
  detail[tag] = d
  if (t.startupMs !== undefined) figs['startup.ms'] = t.startupMs
  if (t.id !== 'direct') figs['rss.start'] = rssSumKiB(t.pids()) / 1024
  const wantSmall = has('small1') || has('small64') || has('cpu')
  if (wantSmall && opts.warmupSeconds > 0) {
    progress(`${label}: warm-up, 64 connections, ${opts.warmupSeconds} s`)
    await step(`${label} warm-up`, () => runWrk(`${t.base}/1k`, t.headers, 64, opts.warmupSeconds, join(workDir, `wrk-warm-${tag}.log`)))
  }
  if (has('small1')) {
    progress(`${label}: small GET, 1 connection, ${opts.seconds} s`)
    const r = await step(`${label} small GET c1`, () => runWrk(`${t.base}/1k`, t.headers, 1, opts.seconds, join(workDir, `wrk-c1-${tag}.log`)))
    if (r !== undefined) {
      Object.assign(figs, { 'small1.rps': r.rps, 'small1.p50': r.p50Ms, 'small1.p99': r.p99Ms })
      d.small1 = r
      noteWrkErrors(`${label} small GET c1`, r.errors)
    }
  }
  if (has('small64') || has('cpu')) {
    progress(`${label}: small GET, 64 connections, ${opts.seconds} s (and tunnel CPU)`)
    const pids = t.pids()
    const gwPids = t.gatewayPids?.() ?? []
    const before = cpuSeconds(pids)
    const r = await step(`${label} small GET c64`, () => runWrk(`${t.base}/1k`, t.headers, 64, opts.seconds, join(workDir, `wrk-c64-${tag}.log`)))
    const after = cpuSeconds(pids)
    if (r !== undefined) {
      if (has('small64')) Object.assign(figs, { 'small64.rps': r.rps, 'small64.p50': r.p50Ms, 'small64.p99': r.p99Ms })
      if (has('cpu') && t.id !== 'direct' && r.requests > 0) figs['cpu.per10k'] = (cpuDelta(before, after) / r.requests) * 10_000
      if (has('cpu') && gwPids.length > 0 && r.requests > 0) figs['cpu.gateway10k'] = (cpuDelta(pick(before, gwPids), pick(after, gwPids)) / r.requests) * 10_000
      d.small64 = { ...r, tunnelCpuS: cpuDelta(before, after), pids: pids.length }
      noteWrkErrors(`${label} small GET c64`, r.errors)
    }
  }
  if (has('download')) {
    progress(`${label}: download ${opts.downloadBytes / 1048576} MiB`)
    const r = await step(`${label} download`, () => runDownload(t.base, t.headers, opts.downloadBytes, join(workDir, `curl-down-${tag}.log`)))
    if (r !== undefined) figs['download.mibs'] = r.mibPerS
  }
  if (has('upload')) {
    progress(`${label}: upload ${opts.uploadBytes / 1048576} MiB`)
    const r = await step(`${label} upload`, () => runUpload(t.base, t.headers, uploadFile, opts.uploadBytes, join(workDir, `curl-up-${tag}.log`)))
    if (r !== undefined) figs['upload.mibs'] = r.mibPerS
  }
  if (has('sse')) {
    progress(`${label}: SSE ${opts.sseEvents} events every ${opts.sseEveryMs} ms`)
    const r = await step(`${label} SSE`, () => runSse(t.base, t.headers, opts.sseEvents, opts.sseEveryMs))
    if (r !== undefined) Object.assign(figs, { 'sse.median': r.medianMs, 'sse.max': r.maxMs })
  }
  if (t.id !== 'direct') {
    figs['rss.end'] = rssSumKiB(t.pids()) / 1024
    progress(`${label}: resident memory again in ${opts.rssSettleMs / 1000} s`)
    await sleep(opts.rssSettleMs)
    figs['rss.settled'] = rssSumKiB(t.pids()) / 1024
  }
  const complaints = t.complaints()
  if (complaints.length > 0) {
    problems.push(`${label}: the tunnel printed ${complaints.length} warning/error line(s), first ones:\n    ${complaints.slice(0, 8).join('\n    ')}`)
  }
  return figs
}

async function main(): Promise<void> {
  // Bun three times: as shipped; without the per-request bookkeeping (latency histograms,
  // inspector, timeline: REQUEST_METRICS=0); and with Bun's own allocator settings instead of the
  // shipped ones (gateway-env.ts), so what each costs or saves shows within one run.
  const burrowTargets = opts.runtimes.flatMap((r): TargetId[] => (r === 'bun' ? ['burrow-bun', 'burrow-bun-lean', 'burrow-bun-purging'] : [`burrow-${r}` as TargetId]))
  const targets: TargetId[] = [...opts.baselines, ...burrowTargets]
  const wantSsh = opts.baselines.some((b) => b.startsWith('ssh'))
  const trafficWorkloads = ['small1', 'small64', 'cpu', 'download', 'upload', 'sse', 'startup'] as const
  const wantTraffic = trafficWorkloads.some((w) => has(w))
  progress(`workdir ${workDir}; targets ${targets.join(', ')}; workloads ${[...opts.workloads].join(', ')}; ${opts.passes} passes`)
  ensureTools(['wrk', 'curl', ...(wantSsh ? ['ssh', 'ssh-keygen', 'sshd'] : [])], progress)
  if (opts.runtimes.includes('node') && (await ensureBuilt())) progress('built dist/ for the Node gateway (node dist/cli.js serve)')
  const machine = describeMachine()
  const originPort = await startOrigin()
  progress(`origin on 127.0.0.1:${originPort}`)
  let sshd: PrivateSshd | undefined
  if (wantSsh && wantTraffic) {
    sshd = await startPrivateSshd(join(workDir, 'sshd'))
    progress(`private sshd on 127.0.0.1:${sshd.port} (pid ${sshd.proc.pid})`)
  }
  const uploadFile = join(workDir, 'upload.bin')
  if (has('upload')) writeFileSync(uploadFile, randomBytes(opts.uploadBytes))

  for (let pass = 1; pass <= opts.passes; pass++) {
    if (wantTraffic) {
      for (const id of targets) {
        const label = `pass ${pass}/${opts.passes} ${TARGET_LABELS[id]}`
        progress(`${label}: starting`)
        const t = await step(`${label} start`, () =>
          startTarget(id, { originPort, sshd, workDir, agentConnections: opts.agentConnections, tag: `p${pass}` }),
        )
        if (t === undefined) continue
        try {
          const figs = await measureTarget(t, pass, uploadFile)
          const list = (passes[id] ??= [])
          list[pass - 1] = { ...list[pass - 1], ...figs }
        } finally {
          await t.stop()
        }
      }
    }
    if (has('idle')) {
      for (const runtime of opts.runtimes) {
        const label = `pass ${pass}/${opts.passes} Burrow ${runtime}`
        progress(`${label}: ${opts.idleConnections} idle agent connections`)
        const r = await step(`${label} idle RSS`, () => measureIdleRss(runtime, opts.idleConnections, opts.idleSettleMs, workDir, `p${pass}`))
        if (r === undefined) continue
        detail[`idle-burrow-${runtime}-p${pass}`] = r
        progress(`${label}: ${r.connections}/${r.wanted} up in ${r.connectMs} ms, gateway RSS ${(r.beforeKiB / 1024).toFixed(1)} → ${(r.afterKiB / 1024).toFixed(1)} MiB`)
        if (r.connections < r.wanted) {
          problems.push(`${label} idle: only ${r.connections} of ${r.wanted} connections came up: ${r.failures.slice(0, 3).join('; ')}\n    gateway ${r.gatewayOutput?.split('\n').join('\n    ')}`)
        }
        if (r.gatewayCounted !== undefined && r.gatewayCounted !== r.connections) problems.push(`${label} idle: the gateway counted ${r.gatewayCounted} connections, the agents ${r.connections}`)
        const id = `burrow-${runtime}` as TargetId
        const list = (passes[id] ??= [])
        // Attach to the same pass's figures when there are traffic figures for it.
        const slot = list[pass - 1] ?? (list[pass - 1] = {})
        slot['idle.kibPerConn'] = r.perConnKiB
      }
    }
    if (has('users')) {
      for (const runtime of opts.runtimes) {
        const label = `pass ${pass}/${opts.passes} Burrow ${runtime}`
        progress(`${label}: ${opts.users} users' agents, small GET, 64 connections, ${opts.seconds} s`)
        const r = await step(`${label} many users`, () => measureManyUsers(runtime, opts.users, opts.quick ? 0 : opts.warmupSeconds, opts.seconds, originPort, workDir, `p${pass}`))
        if (r === undefined) continue
        detail[`users-burrow-${runtime}-p${pass}`] = r
        noteWrkErrors(`${label} many users`, r.run.errors)
        if (r.up < r.users) problems.push(`${label} many users: only ${r.up} of ${r.users} agents came up`)
        const id = `burrow-${runtime}` as TargetId
        const list = (passes[id] ??= [])
        const slot = list[pass - 1] ?? (list[pass - 1] = {})
        Object.assign(slot, { 'users.rps': r.run.rps, 'users.p50': r.run.p50Ms, 'users.p99': r.run.p99Ms })
        if (r.gatewayCpuPer10k !== undefined) slot['users.gateway10k'] = r.gatewayCpuPer10k
      }
    }
    if (has('cluster')) {
      // Gateways on Bun (the primary) sharing a private redis-server: the cross-instance hop
      // against a same-instance request, and one instance against two on this machine's cores.
      const runtime = 'bun'
      const label = `pass ${pass}/${opts.passes} Burrow ${runtime} cluster`
      const r = await step(`${label}`, () => measureCluster(runtime, opts.warmupSeconds, opts.seconds, originPort, workDir, `p${pass}`, progress))
      if (r !== undefined) {
        detail[`cluster-burrow-${runtime}-p${pass}`] = r
        for (const [what, run] of [['same', r.same], ['hop', r.hop], ['two A', r.two[0]], ['two B', r.two[1]]] as const) noteWrkErrors(`${label} ${what}`, run.errors)
        const list = (passes[`burrow-${runtime}`] ??= [])
        const slot = list[pass - 1] ?? (list[pass - 1] = {})
        Object.assign(slot, {
          'cluster.same.rps': r.same.rps,
          'cluster.same.p99': r.same.p99Ms,
          'cluster.hop.rps': r.hop.rps,
          'cluster.hop.p99': r.hop.p99Ms,
          'cluster.two.rps': r.two[0].rps + r.two[1].rps,
          'cluster.same.gateways10k': r.cpu.same.gateways10k,
          'cluster.hop.gateways10k': r.cpu.hop.gateways10k,
          'cluster.two.gateways10k': r.cpu.two.gateways10k,
        })
        const cpu = (s: { gateways10k: number; agent10k: number }) => `gateways ${s.gateways10k.toFixed(2)} + agent ${s.agent10k.toFixed(2)} CPU-s per 10k`
        progress(`${label}: via A ${r.same.rps.toFixed(0)} req/s p99 ${r.same.p99Ms.toFixed(2)} ms (${cpu(r.cpu.same)}); via B → A ${r.hop.rps.toFixed(0)} req/s p99 ${r.hop.p99Ms.toFixed(2)} ms (${cpu(r.cpu.hop)}); A+B holders ${(r.two[0].rps + r.two[1].rps).toFixed(0)} req/s (${cpu(r.cpu.two)})`)
      }
    }
  }

  if (has('burst')) {
    for (const runtime of opts.runtimes) {
      for (let pass = 1; pass <= opts.passes; pass++) {
        const label = `pass ${pass}/${opts.passes} Burrow ${runtime}`
        progress(`${label}: burst of ${opts.burstRequests} × ${opts.burstSlowMs} ms requests, agent --connections auto`)
        const r = await step(`${label} burst`, () => measureBurst(runtime, opts.burstRequests, opts.burstSlowMs, workDir, `p${pass}`))
        if (r === undefined) continue
        detail[`burst-burrow-${runtime}-p${pass}`] = r
        progress(`${label}: ${JSON.stringify(r.statuses)} in ${r.ms} ms, connections ${r.startedWith} → ${r.grewTo}`)
        if (r.status503 > 0 || (r.statuses['200'] ?? 0) !== r.requests) problems.push(`${label} burst: answers ${JSON.stringify(r.statuses)}, expected ${r.requests} × 200`)
        const list = (passes[`burrow-${runtime}` as TargetId] ??= [])
        const slot = list[pass - 1] ?? (list[pass - 1] = {})
        Object.assign(slot, { 'burst.503': r.status503, 'burst.conns': r.grewTo })
      }
    }
  }

  machine['load average at end'] = loadAverage()
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine,
    options: { ...opts, workloads: [...opts.workloads] },
    passes,
    problems,
    detail,
    elapsedS: Math.round(elapsed()),
  }
  const text = renderText(results)
  if (opts.json.toStdout) process.stdout.write(JSON.stringify(results, null, 2) + '\n')
  else process.stdout.write(text)
  if (opts.json.file !== undefined) writeFileSync(opts.json.file, JSON.stringify(results, null, 2) + '\n')
  progress('done')
}

/** The human-readable report: header, table, target checks, problems. */
function renderText(results: BenchResults): string {
  const o = results.options as unknown as BenchOptions
  const problemText = results.problems.length === 0 ? 'none' : results.problems.map((p) => `- ${p}`).join('\n')
  return [
    `Burrow bench, ${results.date}, ${results.elapsedS} s`,
    ...Object.entries(results.machine).map(([k, v]) => `  ${k}: ${v}`),
    `  settings: ${o.passes} passes; small GETs ${o.seconds} s each after ${o.warmupSeconds} s warm-up; download ${o.downloadBytes / 1048576} MiB; upload ${o.uploadBytes / 1048576} MiB; SSE ${o.sseEvents} × ${o.sseEveryMs} ms; ${o.idleConnections} idle connections; ${o.users} users; Burrow agent --connections ${o.agentConnections}${o.rssSettleMs === undefined ? '' : `; RSS again ${o.rssSettleMs / 1000} s after the workloads`}`,
    '',
    renderTable(results),
    '',
    'Issue 7 targets (Burrow on Bun unless named; met = on the means and in every pass):',
    renderChecks(checkTargets(results)),
    '',
    'Problems seen:',
    problemText,
    '',
  ].join('\n')
}

let exitCode = 0
try {
  if (opts.report !== undefined) {
    process.stdout.write(renderText(JSON.parse(readFileSync(opts.report, 'utf8')) as BenchResults))
    opts = { ...opts, keep: false }
  } else await main()
} catch (err) {
  progress(`bench failed: ${(err as Error).stack ?? err}`)
  exitCode = 1
} finally {
  await cleanup()
}
process.exit(exitCode)

/** The entries of `cpu` for `pids` only. */
function pick(cpu: Map<number, number>, pids: readonly number[]): Map<number, number> {
  return new Map(pids.filter((p) => cpu.has(p)).map((p) => [p, cpu.get(p)!]))
}
