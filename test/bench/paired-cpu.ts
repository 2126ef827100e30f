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
 * AGENT_DIR=DIR runs every setup's agent from that checkout (so only the gateways differ).
 * Prints one JSON line: [{label, rps, usPerReq}, …].
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
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
const token = await signToken(SECRET, 'alice', 3600)
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
  return { label, gw, gport, procs: [origin.p, gw.p, agent.p] }
}
const setups = []
for (const cfg of process.argv.slice(2)) setups.push(await setup(cfg))
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100 }
const answered = async (port: string) => ((await (await fetch(`http://127.0.0.1:${port}/admin/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as any).totals.requests as number
const wrks = setups.map((s) => spawn('wrk', ['-t1', '-c16', '-d26s', '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${s.gport}/t/alice/hello`], { stdio: 'ignore' }))
await Bun.sleep(15_000)
const a = await Promise.all(setups.map(async (s) => [cpu(s.gw.p.pid!), await answered(s.gport)]))
await Bun.sleep(10_000)
const b = await Promise.all(setups.map(async (s) => [cpu(s.gw.p.pid!), await answered(s.gport)]))
await Promise.all(wrks.map((w) => new Promise((r) => w.on('exit', r))))
console.log(JSON.stringify(setups.map((s, i) => { const n = b[i]![1]! - a[i]![1]!; const c = b[i]![0]! - a[i]![0]!; return { label: s.label, rps: Math.round(n / 10), usPerReq: +((c * 1e6) / n).toFixed(1) } })))
for (const s of setups) for (const p of s.procs) p.kill('SIGKILL')
process.exit(0)
