/**
 * `bun run bench [flags]` — what to run and how long. `--quick` is a ~1-minute smoke run; the
 * default is the full run (under 10 minutes on 2 cores).
 */
import { parseArgs } from 'node:util'
import type { RuntimeName } from '../support/processes.ts'

export const WORKLOADS = ['small1', 'small64', 'cpu', 'download', 'upload', 'sse', 'startup', 'idle', 'users', 'burst', 'cluster'] as const
export type Workload = (typeof WORKLOADS)[number]

export const BASELINES = ['direct', 'ssh-n', 'ssh-nodelay'] as const
export type Baseline = (typeof BASELINES)[number]

export interface BenchOptions {
  readonly quick: boolean
  readonly passes: number
  readonly workloads: ReadonlySet<Workload>
  readonly runtimes: readonly RuntimeName[]
  readonly baselines: readonly Baseline[]
  /** Seconds per small-GET measurement (each of c1 and c64). */
  readonly seconds: number
  /** Seconds of c64 load before measuring, per target (JIT warm-up). */
  readonly warmupSeconds: number
  readonly downloadBytes: number
  readonly uploadBytes: number
  readonly sseEvents: number
  readonly sseEveryMs: number
  readonly idleConnections: number
  /** Users (one simulated agent each) sharing the 64-connection small-GET load in the `users` workload. */
  readonly users: number
  /** ms to let the gateway's heap settle before each idle-RSS reading. */
  readonly idleSettleMs: number
  /**
   * ms after a target's workloads before the second RSS reading: longer than the 10 s for which
   * Burrow's Bun allocator setting keeps freed memory (MIMALLOC_PURGE_DELAY=10000, gateway-env.ts),
   * so the reading shows what stays once a load has ended.
   */
  readonly rssSettleMs: number
  /** The `burst` workload: concurrent slow requests against an auto agent that starts with 1 connection. */
  readonly burstRequests: number
  /** How long the origin takes to answer each burst request, ms. */
  readonly burstSlowMs: number
  /** Connections of the bench's Burrow agent (`--connections`). */
  readonly agentConnections: number
  /** Keep the temp dir (logs of every process) instead of deleting it. */
  readonly keep: boolean
  /** `--report=FILE`: print the table of a saved `--json` run, run nothing. */
  readonly report: string | undefined
  /** `--json`: JSON on stdout instead of the table; `--json=FILE`: table on stdout, JSON to FILE. */
  readonly json: { toStdout: boolean; file: string | undefined }
}

export const USAGE = `Usage: bun run bench [flags]
  --quick                  ~80 s smoke run (1 s loads, 32/16 MiB transfers, 100 idle connections, 20 users)
  --only=LIST              workloads, comma-separated: ${WORKLOADS.join(',')} (small = small1,small64)
  --runtimes=LIST          Burrow gateway runtimes: bun,deno,node (default all)
  --baselines=LIST         direct,ssh-n,ssh-nodelay (default all; ratios need them)
  --passes=N               measure each configuration N times (default 2)
  --seconds=S              duration of each small-GET run, whole seconds (default 10; quick 1)
  --idle=N                 idle agent connections for the RSS figure (default 1000; quick 100)
  --users=N                users with an agent each, sharing the 64-connection load (default 100; quick 20)
  --agent-connections=N    connections of the Burrow agent, 1..3 (default 3)
  --json[=FILE]            JSON on stdout instead of the table, or the table plus JSON in FILE
  --keep                   keep the temp dir with every process's log
  --report=FILE            print the table and checks of a run saved with --json=FILE; runs nothing
  --help
`

function list<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, aliases: Record<string, T[]> = {}): T[] | undefined {
  if (value === undefined) return undefined
  const out: T[] = []
  for (const raw of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const expanded = aliases[raw] ?? [raw as T]
    for (const v of expanded) {
      if (!allowed.includes(v)) throw new Error(`Cannot use ${flag}=${value}: "${raw}" is not one of ${[...allowed, ...Object.keys(aliases)].join(', ')}`)
      if (!out.includes(v)) out.push(v)
    }
  }
  return out
}

function positiveNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`Cannot use ${flag}=${value}: expected a positive number`)
  return n
}

/** Parse argv (without the script path); throws with a message naming the flag on bad input. */
export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    // A bare `--json` means "JSON on stdout"; parseArgs wants a value, so give it an empty one.
    args: argv.map((a) => (a === '--json' ? '--json=' : a)),
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      runtimes: { type: 'string' },
      baselines: { type: 'string' },
      passes: { type: 'string' },
      seconds: { type: 'string' },
      idle: { type: 'string' },
      users: { type: 'string' },
      'agent-connections': { type: 'string' },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      report: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) return 'help'
  const quick = values.quick === true
  const workloads = list(values.only, WORKLOADS, '--only', { small: ['small1', 'small64'] }) ?? [...WORKLOADS]
  const runtimes = list(values.runtimes, ['bun', 'deno', 'node'] as const, '--runtimes') ?? ['bun', 'deno', 'node']
  const baselines = list(values.baselines, BASELINES, '--baselines') ?? [...BASELINES]
  const agentConnections = positiveNumber(values['agent-connections'], '--agent-connections', 3)
  if (![1, 2, 3].includes(agentConnections)) throw new Error(`Cannot use --agent-connections=${agentConnections}: expected 1, 2 or 3`)
  return {
    quick,
    passes: Math.round(positiveNumber(values.passes, '--passes', 2)),
    workloads: new Set(workloads),
    runtimes,
    baselines,
    seconds: positiveNumber(values.seconds, '--seconds', quick ? 1 : 10),
    warmupSeconds: quick ? 1 : 2,
    downloadBytes: (quick ? 32 : 256) * 1024 * 1024,
    uploadBytes: (quick ? 16 : 64) * 1024 * 1024,
    sseEvents: 50,
    sseEveryMs: 20,
    idleConnections: Math.round(positiveNumber(values.idle, '--idle', quick ? 100 : 1000)),
    users: Math.round(positiveNumber(values.users, '--users', quick ? 20 : 100)),
    idleSettleMs: quick ? 500 : 3000,
    rssSettleMs: quick ? 2000 : 12_000,
    burstRequests: 30,
    burstSlowMs: quick ? 1000 : 3000,
    agentConnections,
    keep: values.keep === true,
    report: values.report,
    json: { toStdout: values.json === '', file: values.json !== undefined && values.json !== '' ? values.json : undefined },
  }
}
