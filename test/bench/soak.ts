/**
 * `bun run bench:soak [--minutes=10] [--runtime=bun]`: a steady small-GET load (wrk, 64
 * connections) through one gateway and one agent for N minutes, printing each minute's rate, p99,
 * errors and the resident memory of gateway and agent, so growth under load shows (issue 7:
 * "no growth over a 10-minute steady load"). Loopback only; everything it starts is killed.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureBuilt } from '../support/build.ts'
import { startAgent, startGateway, startProcess, stopAll, runtimeCommand, type RuntimeName } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'
import { NO_RATE_LIMITS, GATEWAY_START, SHIPPED_BUN_ENV } from './gateway-env.ts'
import { runWrk } from './load.ts'
import { rssKiB } from './procs.ts'

const { values } = parseArgs({ args: process.argv.slice(2), options: { minutes: { type: 'string', default: '10' }, runtime: { type: 'string', default: 'bun' } } })
const minutes = Number(values.minutes)
const runtime = values.runtime as RuntimeName
if (!Number.isInteger(minutes) || minutes < 1 || minutes > 120) throw new Error(`Cannot use --minutes=${values.minutes}: expected 1..120`)
if (!['bun', 'deno', 'node'].includes(runtime)) throw new Error(`Cannot use --runtime=${runtime}: expected bun, deno or node`)

const dir = mkdtempSync(join(tmpdir(), 'burrow-soak-'))
const t0 = Date.now()
const say = (msg: string) => console.error(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`)
const stop = async () => {
  await stopAll()
  process.exit(130)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

try {
  const [cmd, args] = runtimeCommand('bun', 'test/bench/origin.ts', ['0'])
  const origin = startProcess(cmd, args)
  const port = Number((await origin.waitFor(/listening (\d+)/))[1])
  // Capacity, not policy: one wrk address is far past the default per-IP rate limit.
  if (runtime === 'node') await ensureBuilt()
  const gw = await startGateway(runtime, { ...NO_RATE_LIMITS, ...SHIPPED_BUN_ENV, QUEUE_MAX_WAITING: '1000' }, GATEWAY_START)
  const alice = await tokenFor('alice', 24 * 3600)
  const agent = await startAgent(gw.url, alice, `http://127.0.0.1:${port}`, { connections: 3, env: { ...SHIPPED_BUN_ENV } })
  const pids = { gateway: gw.proc.child.pid!, agent: agent.proc.child.pid! }
  const mib = (pid: number) => rssKiB(pid) / 1024
  const rows: { minute: number; rps: number; p99: number; errors: number; gw: number; agent: number }[] = []
  const start = { gw: mib(pids.gateway), agent: mib(pids.agent) }
  say(`gateway on ${runtime}; RSS at start: gateway ${start.gw.toFixed(1)} MiB, agent ${start.agent.toFixed(1)} MiB`)
  for (let m = 1; m <= minutes; m++) {
    const r = await runWrk(`${gw.url}/t/alice/1k`, { authorization: `Bearer ${alice}` }, 64, 60, join(dir, `wrk-${m}.log`))
    const errors = r.errors.connect + r.errors.read + r.errors.write + r.errors.status + r.errors.timeout
    rows.push({ minute: m, rps: r.rps, p99: r.p99Ms, errors, gw: mib(pids.gateway), agent: mib(pids.agent) })
    say(`minute ${m}/${minutes}: ${Math.round(r.rps)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, ${errors} errors, RSS gateway ${rows.at(-1)!.gw.toFixed(1)} MiB, agent ${rows.at(-1)!.agent.toFixed(1)} MiB`)
  }
  console.log(`Burrow soak, ${new Date().toISOString()}, gateway on ${runtime}, ${minutes} min of wrk -c64 on a 1 KiB GET`)
  console.log('| minute | req/s | p99 ms | errors | gateway RSS MiB | agent RSS MiB |')
  console.log('|---:|---:|---:|---:|---:|---:|')
  console.log(`| start | | | | ${start.gw.toFixed(1)} | ${start.agent.toFixed(1)} |`)
  for (const r of rows) console.log(`| ${r.minute} | ${Math.round(r.rps)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.gw.toFixed(1)} | ${r.agent.toFixed(1)} |`)
  const end = rows.at(-1)!
  const firstMinute = rows[0]!
  console.log(`RSS start → after minute 1 → end: gateway ${start.gw.toFixed(1)} → ${firstMinute.gw.toFixed(1)} → ${end.gw.toFixed(1)} MiB; agent ${start.agent.toFixed(1)} → ${firstMinute.agent.toFixed(1)} → ${end.agent.toFixed(1)} MiB`)
} finally {
  await stopAll()
}
