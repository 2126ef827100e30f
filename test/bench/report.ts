/**
 * From the figures of every pass to what a reader needs: the mean per target, the spread between
 * passes, ratios to direct and to both OpenSSH flavours, and the issue-7 targets met or missed.
 */
import { TARGET_LABELS, type TargetId } from './targets.ts'

export const METRICS = [
  { key: 'small1.rps', label: 'small GET, 1 conn: req/s', better: 'higher', digits: 0 },
  { key: 'small1.p50', label: 'small GET, 1 conn: p50 ms', better: 'lower', digits: 3 },
  { key: 'small1.p99', label: 'small GET, 1 conn: p99 ms', better: 'lower', digits: 3 },
  { key: 'small64.rps', label: 'small GET, 64 conns: req/s', better: 'higher', digits: 0 },
  { key: 'small64.p50', label: 'small GET, 64 conns: p50 ms', better: 'lower', digits: 2 },
  { key: 'small64.p99', label: 'small GET, 64 conns: p99 ms', better: 'lower', digits: 2 },
  { key: 'users.rps', label: 'small GET, 64 conns over N users: req/s', better: 'higher', digits: 0 },
  { key: 'users.p50', label: 'small GET, 64 conns over N users: p50 ms', better: 'lower', digits: 2 },
  { key: 'users.p99', label: 'small GET, 64 conns over N users: p99 ms', better: 'lower', digits: 2 },
  { key: 'users.gateway10k', label: 'gateway CPU-s per 10k GETs, N users', better: 'lower', digits: 2 },
  { key: 'download.mibs', label: 'download: MiB/s', better: 'higher', digits: 0 },
  { key: 'upload.mibs', label: 'upload: MiB/s', better: 'higher', digits: 0 },
  { key: 'sse.median', label: 'SSE delay: median ms', better: 'lower', digits: 2 },
  { key: 'sse.max', label: 'SSE delay: max ms', better: 'lower', digits: 2 },
  { key: 'cpu.per10k', label: 'tunnel CPU-s per 10k small GETs', better: 'lower', digits: 2 },
  { key: 'cpu.gateway10k', label: 'gateway CPU-s per 10k GETs, 1 user', better: 'lower', digits: 2 },
  { key: 'startup.ms', label: 'client start → first 200: ms', better: 'lower', digits: 0 },
  { key: 'rss.start', label: 'tunnel RSS after start: MiB', better: 'lower', digits: 1 },
  { key: 'rss.end', label: 'tunnel RSS after workloads: MiB', better: 'lower', digits: 1 },
  { key: 'rss.settled', label: 'tunnel RSS after workloads + idle pause: MiB', better: 'lower', digits: 1 },
  { key: 'idle.kibPerConn', label: 'gateway RSS per idle agent conn: KiB', better: 'lower', digits: 1 },
  { key: 'burst.503', label: 'burst of 30 slow requests, auto agent: 503s', better: 'lower', digits: 0 },
  { key: 'burst.conns', label: 'burst of 30 slow requests: connections grown to (from 1)', better: 'higher', digits: 0 },
  { key: 'cluster.same.rps', label: 'cluster: GET via holder A, 64 conns: req/s', better: 'higher', digits: 0 },
  { key: 'cluster.same.p99', label: 'cluster: GET via holder A, 64 conns: p99 ms', better: 'lower', digits: 2 },
  { key: 'cluster.hop.rps', label: 'cluster: GET via B → A, 64 conns: req/s', better: 'higher', digits: 0 },
  { key: 'cluster.hop.p99', label: 'cluster: GET via B → A, 64 conns: p99 ms', better: 'lower', digits: 2 },
  { key: 'cluster.two.rps', label: 'cluster: GET over A and B, both holders: req/s', better: 'higher', digits: 0 },
  { key: 'cluster.same.gateways10k', label: 'cluster: gateway CPU-s per 10k, via holder A', better: 'lower', digits: 2 },
  { key: 'cluster.hop.gateways10k', label: 'cluster: gateway CPU-s per 10k, via B → A', better: 'lower', digits: 2 },
  { key: 'cluster.two.gateways10k', label: 'cluster: gateway CPU-s per 10k, A and B holders', better: 'lower', digits: 2 },
] as const

export type MetricKey = (typeof METRICS)[number]['key']
export type Figures = Partial<Record<MetricKey, number>>

export interface Aggregate {
  readonly mean: number
  readonly runs: number[]
  /** (max − min) / mean, as a fraction. */
  readonly spread: number
}

export interface BenchResults {
  readonly date: string
  readonly machine: Record<string, string>
  readonly options: Record<string, unknown>
  readonly passes: Partial<Record<TargetId, Figures[]>>
  /** Everything odd: load-generator errors, warnings the tunnel printed, failed steps. */
  readonly problems: string[]
  /** Extra raw detail per target and pass (error counts, absolute RSS, …). */
  readonly detail: Record<string, unknown>
  readonly elapsedS: number
}

export function aggregate(runs: number[]): Aggregate | undefined {
  const vals = runs.filter((v) => Number.isFinite(v))
  if (vals.length === 0) return undefined
  const mean = vals.reduce((a, b) => a + b, 0) / vals.length
  const spread = mean === 0 ? 0 : (Math.max(...vals) - Math.min(...vals)) / Math.abs(mean)
  return { mean, runs: vals, spread }
}

export function figure(results: BenchResults, target: TargetId, key: MetricKey): Aggregate | undefined {
  const passes = results.passes[target]
  if (passes === undefined) return undefined
  return aggregate(passes.map((f) => f[key] ?? Number.NaN))
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function ratio(a: Aggregate | undefined, b: Aggregate | undefined): string {
  if (a === undefined || b === undefined || b.mean === 0) return '—'
  const r = a.mean / b.mean
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toFixed(2)}×`
}

const ORDER: TargetId[] = ['direct', 'ssh-n', 'ssh-nodelay', 'burrow-bun', 'burrow-bun-lean', 'burrow-bun-purging', 'burrow-deno', 'burrow-node']

/** The figures as one Markdown table (it reads as plain text too). */
export function renderTable(results: BenchResults): string {
  const rows: string[][] = [['figure', 'target', 'mean', 'runs', 'spread', '× direct', '× OpenSSH -N', '× OpenSSH NODELAY']]
  for (const m of METRICS) {
    const direct = figure(results, 'direct', m.key)
    const sshN = figure(results, 'ssh-n', m.key)
    const sshNd = figure(results, 'ssh-nodelay', m.key)
    let first = true
    for (const t of ORDER) {
      const a = figure(results, t, m.key)
      if (a === undefined) continue
      rows.push([
        first ? m.label : '',
        TARGET_LABELS[t],
        fmt(a.mean, m.digits),
        a.runs.map((v) => fmt(v, m.digits)).join(' / '),
        a.runs.length > 1 ? `${(a.spread * 100).toFixed(0)}%` : '—',
        t === 'direct' ? '' : ratio(a, direct),
        t === 'ssh-n' ? '' : ratio(a, sshN),
        t === 'ssh-nodelay' ? '' : ratio(a, sshNd),
      ])
      first = false
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => `| ${r.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`
  const sep = `|${widths.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n')
}

export interface TargetCheck {
  readonly target: string
  readonly measured: string
  readonly met: boolean | undefined
  /** Shown for information: the issue names no number to check against. */
  readonly info?: boolean
  /** Set when the passes disagree (then `met` is false). */
  readonly mixed?: string
}

/**
 * The targets of issue 7, checked against this run's means (Bun unless stated), and again within
 * each pass: on a shared machine one noisy baseline pass can flip a verdict, so a target counts as
 * met only if it is met on the means and in every pass.
 */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const overall = checkOnce(results)
  const n = Math.max(0, ...Object.values(results.passes).map((l) => l?.length ?? 0))
  if (n <= 1) return overall
  const perPass = Array.from({ length: n }, (_, i) =>
    checkOnce({
      ...results,
      passes: Object.fromEntries(Object.entries(results.passes).map(([t, l]) => [t, l?.[i] === undefined ? [] : [l[i]!]])),
    }),
  )
  return overall.map((c, j) => {
    if (c.info === true || c.met === undefined) return c
    const verdicts = perPass.map((p) => p[j]!.met).filter((v): v is boolean => v !== undefined)
    const met = verdicts.filter(Boolean).length
    if (met === verdicts.length && c.met) return c
    if (met === 0 && !c.met) return c
    return { ...c, met: false, mixed: `met in ${met} of ${verdicts.length} passes${c.met ? ', and on the means' : ', not on the means'}` }
  })
}

function checkOnce(results: BenchResults): TargetCheck[] {
  const f = (t: TargetId, k: MetricKey) => figure(results, t, k)?.mean
  const out: TargetCheck[] = []
  const add = (target: string, value: number | undefined, limit: number | undefined, cmp: '>=' | '<=', show: (v: number, l: number) => string) => {
    if (value === undefined || limit === undefined) return out.push({ target, measured: 'not measured', met: undefined })
    out.push({ target, measured: show(value, limit), met: cmp === '>=' ? value >= limit : value <= limit })
  }
  const bun = 'burrow-bun' as const
  const rps = f(bun, 'small64.rps')
  const sshN = f('ssh-n', 'small64.rps')
  const sshNd = f('ssh-nodelay', 'small64.rps')
  add('small GET c64 req/s ≥ 1.0 × OpenSSH -N', rps, sshN, '>=', (v, l) => `${fmt(v, 0)} vs ${fmt(l, 0)} (${(v / l).toFixed(2)}×)`)
  add('small GET c64 req/s ≥ 0.5 × OpenSSH NODELAY', rps, sshNd === undefined ? undefined : 0.5 * sshNd, '>=', (v, l) => `${fmt(v, 0)} vs ${fmt(l * 2, 0)} (${(v / (l * 2)).toFixed(2)}×)`)
  const dp99 = f('direct', 'small64.p99')
  add('small GET c64 p99 ≤ 2 × direct p99 + 2 ms', f(bun, 'small64.p99'), dp99 === undefined ? undefined : 2 * dp99 + 2, '<=', (v, l) => `${fmt(v, 2)} ms vs limit ${fmt(l, 2)} ms`)
  const dp50 = f('direct', 'small1.p50')
  add('small GET c1 p50 overhead over direct ≤ 0.5 ms', f(bun, 'small1.p50'), dp50 === undefined ? undefined : dp50 + 0.5, '<=', (v, l) => `${fmt(v, 3)} ms vs direct ${fmt(l - 0.5, 3)} ms (+${fmt(v - (l - 0.5), 3)} ms)`)
  for (const k of ['download.mibs', 'upload.mibs'] as const) {
    const best = Math.max(f('ssh-n', k) ?? Number.NaN, f('ssh-nodelay', k) ?? Number.NaN)
    const name = k === 'download.mibs' ? 'download' : 'upload'
    add(`${name} ≥ 50 % of OpenSSH's MiB/s (the better flavour)`, f(bun, k), Number.isFinite(best) ? best / 2 : undefined, '>=', (v, l) => `${fmt(v, 0)} vs ${fmt(l * 2, 0)} MiB/s (${((v / (l * 2)) * 100).toFixed(0)} %)`)
    for (const rt of ['burrow-deno', 'burrow-node'] as const) {
      const b = f(bun, k)
      add(`${name} on ${TARGET_LABELS[rt].split(' ')[1]} ≥ 80 % of Bun's`, f(rt, k), b === undefined ? undefined : 0.8 * b, '>=', (v, l) => `${fmt(v, 0)} vs ${fmt(l / 0.8, 0)} MiB/s (${((v / (l / 0.8)) * 100).toFixed(0)} %)`)
    }
  }
  const dmax = f('direct', 'sse.max')
  add('SSE max delay ≤ direct max + 2 ms', f(bun, 'sse.max'), dmax === undefined ? undefined : dmax + 2, '<=', (v, l) => `${fmt(v, 2)} ms vs direct ${fmt(l - 2, 2)} ms`)
  add('RSS per idle agent connection ≤ 64 KiB', f(bun, 'idle.kibPerConn'), 64, '<=', (v) => `${fmt(v, 1)} KiB`)
  const one = f(bun, 'small64.rps')
  const many = f(bun, 'users.rps')
  out.push({
    target: 'throughput and tail latency hold with many users (no number in the issue: ratio to one user)',
    measured:
      one === undefined || many === undefined
        ? 'not measured'
        : `${fmt(many, 0)} vs ${fmt(one, 0)} req/s (${(many / one).toFixed(2)}×), p99 ${fmt(f(bun, 'users.p99') ?? Number.NaN, 2)} vs ${fmt(f(bun, 'small64.p99') ?? Number.NaN, 2)} ms, gateway CPU-s per 10k ${fmt(f(bun, 'users.gateway10k') ?? Number.NaN, 2)} vs ${fmt(f(bun, 'cpu.gateway10k') ?? Number.NaN, 2)}`,
    met: undefined,
    info: true,
  })
  const cpuNd = f('ssh-nodelay', 'cpu.per10k')
  add('CPU per 10k small GETs ≤ 1.5 × OpenSSH NODELAY', f(bun, 'cpu.per10k'), cpuNd === undefined ? undefined : 1.5 * cpuNd, '<=', (v, l) => `${fmt(v, 2)} vs ${fmt(l / 1.5, 2)} CPU-s (${(v / (l / 1.5)).toFixed(2)}×)`)
  return out
}

export function renderChecks(checks: TargetCheck[]): string {
  const tag = (c: TargetCheck) => (c.info === true ? '[info]' : c.met === undefined ? '[ ? ]' : c.mixed !== undefined ? '[MIXED]' : c.met ? '[met]' : '[MISSED]')
  return checks.map((c) => `- ${tag(c)} ${c.target}: ${c.measured}${c.mixed !== undefined ? ` (${c.mixed})` : ''}`).join('\n')
}
