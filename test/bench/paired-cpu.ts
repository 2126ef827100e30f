/**
 * Paired steady-state gateway CPU per request (docs/BENCHMARKS.md, "Per-request bookkeeping"):
 * several setups (origin + Bun gateway + agent + wrk -t1 -c16 on a small GET) run AT THE SAME TIME,
 * so the load of a shared machine hits each alike; per gateway: CPU (utime+stime of all its
 * threads, /proc/PID/stat) over a 10 s window after a 15 s warm-up, divided by the requests it
 * answered in that window (its own /admin/stats counter). Linux only; needs wrk.
 *
 *   bun test/bench/paired-cpu.ts LABEL:CHECKOUT_DIR[:ENV=V,ENV=V] …
 *   e.g. bun test/bench/paired-cpu.ts on:.:REQUEST_METRICS=1 off:.:REQUEST_METRICS=0 base:/tmp/base
 *
 * WARMUP_S=N warms up N seconds (default 15) before the 10 s window.
 * THREADS=1 adds the gateway's CPU µs per request by thread name.
 * AGENT_DIR=DIR runs every setup's agent from that checkout (so only the gateways differ).
 * Prints one JSON line: [{label, rps, usPerReq, agentUsPerReq}, …] (gateway and agent CPU µs per request).
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
const ROOT = resolve(import.meta.dir, '../..')
const bun = process.execPath
const SECRET = 'test-secret-0123456789-abcdefghijklmnop'
const ADMIN = 'admin-token-0123456789abcdef'
const waitFor = async (f: () => string, re: RegExp) => { for (let i = 0; i < 1200; i++) { const m = f().match(re); if (m) return m; await Bun.sleep(50) } throw new Error('timeout ' + re + f()) }
function start(args: string[], env: Record<string, string>, cwd: string) {
  const p = spawn(bun, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env } as any, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  p.stdout.on('data', (d) => (out += d)); p.stderr.on('data', (d) => (out += d))
  return { p, out: () => out }
}
const { signToken } = await import(`${ROOT}/src/auth/tokens.ts`)
const token = await signToken(SECRET, 'alice', 24 * 3600)
async function setup(cfg: string) {
  const [label, given, extra = ''] = cfg.split(':') as [string, string, string]
  const dir = resolve(given)
  const env: Record<string, string> = {}
  for (const kv of extra.split(',').filter(Boolean)) { const [k, v] = kv.split('='); env[k!] = v! }
  const origin = start(['test/fixtures/origin.ts', '0'], {}, ROOT)
  const oport = (await waitFor(origin.out, /listening (\d+)/))[1]
  const gw = start(['src/cli.ts', 'serve'], { ...env, PORT: '0', HOST: '127.0.0.1', BURROW_DATA_DIR: `/tmp/pair-${label}-${Date.now()}`, BURROW_SECRET: SECRET, BURROW_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn', RATE_LIMIT_IP_PER_SECOND: '0', RATE_LIMIT_USER_PER_SECOND: '0' }, dir)
  const gport = (await waitFor(gw.out, /Burrow gateway on https?:\/\/[^:]+:(\d+)/))[1]!
  const agent = start([process.env.AGENT_DIR ? resolve(process.env.AGENT_DIR) + '/src/cli.ts' : 'src/cli.ts', 'connect', '--server', `http://127.0.0.1:${gport}`, '--token', token, '--to', `http://127.0.0.1:${oport}`, '--connections', '2'], env, dir)
  await waitFor(agent.out, /connected \(2\/2\)/)
  return { label, gw, agent, gport, procs: [origin.p, gw.p, agent.p] }
}
const setups = []
for (const cfg of process.argv.slice(2)) setups.push(await setup(cfg))
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100 }
// Per thread name (comm): where a gateway's CPU goes (the JS thread, GC helpers, I/O threads).
const byThread = (pid: number) => {
  const out: Record<string, number> = {}
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim().replace(/\d+$/, '#')
      const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ')
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / 100
    } catch {}
  }
  return out
}
const answered = async (port: string) => ((await (await fetch(`http://127.0.0.1:${port}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as any).totals.requests as number
const WARMUP_S = Number(process.env.WARMUP_S ?? 15)
const wrks = setups.map((s) => spawn('wrk', ['-t1', '-c16', `-d${WARMUP_S + 11}s`, '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${s.gport}/t/alice/hello`], { stdio: 'ignore' }))
await Bun.sleep(WARMUP_S * 1000)
const tA = setups.map((s) => byThread(s.gw.p.pid!))
const a = await Promise.all(setups.map(async (s) => [cpu(s.gw.p.pid!), await answered(s.gport), cpu(s.agent.p.pid!)]))
await Bun.sleep(10_000)
const b = await Promise.all(setups.map(async (s) => [cpu(s.gw.p.pid!), await answered(s.gport), cpu(s.agent.p.pid!)]))
const tB = setups.map((s) => byThread(s.gw.p.pid!))
await Promise.all(wrks.map((w) => new Promise((r) => w.on('exit', r))))
console.log(JSON.stringify(setups.map((s, i) => { const n = b[i]![1]! - a[i]![1]!; const c = b[i]![0]! - a[i]![0]!; const ac = b[i]![2]! - a[i]![2]!; return { label: s.label, rps: Math.round(n / 10), usPerReq: +((c * 1e6) / n).toFixed(1), agentUsPerReq: +((ac * 1e6) / n).toFixed(1), ...(process.env.THREADS ? { threads: Object.fromEntries(Object.entries(tB[i]!).map(([k, v]) => [k, +(((v - (tA[i]![k] ?? 0)) * 1e6) / n).toFixed(1)]).filter(([, v]) => (v as number) > 0)) } : {}) } })))
for (const s of setups) for (const p of s.procs) p.kill('SIGKILL')
process.exit(0)
