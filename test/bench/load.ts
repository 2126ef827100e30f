/**
 * The load the bench sends, each from its own process where it is heavy: wrk for small GETs (one
 * thread, microsecond latencies), curl for the bulk transfers. The SSE reader is light and runs
 * in the bench process, timestamping each event as it arrives.
 */
import { join } from 'node:path'
import { spawnLogged, type OwnedProc } from './procs.ts'

/** The Lua script that makes wrk print its figures as one JSON line (`done()`). */
export const WRK_SCRIPT = join(import.meta.dir, 'wrk-report.lua')

export interface WrkResult {
  readonly requests: number
  readonly durationS: number
  readonly rps: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Socket errors plus non-2xx/3xx answers, as wrk counts them. */
  readonly errors: { connect: number; read: number; write: number; status: number; timeout: number }
}

async function finished(proc: OwnedProc, what: string): Promise<string> {
  const code = await proc.exited()
  const out = proc.log()
  if (code !== 0) throw new Error(`${what} exited with ${code}:\n${out.slice(-2000)}`)
  return out
}

/** `wrk -t1 -c<connections> -d<seconds>s` against `url` (with `script`, which must keep `done()`). */
export async function runWrk(
  url: string,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
  logFile: string,
  script = WRK_SCRIPT,
): Promise<WrkResult> {
  const args = [
    '-t1',
    `-c${connections}`, // wrk takes whole seconds only.
    `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '10s', '-s', script]
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`)
  args.push(url)
  const out = await finished(spawnLogged('wrk', 'wrk', args, logFile), 'wrk')
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '))
  if (line === undefined) throw new Error(`wrk printed no result:\n${out.slice(-2000)}`)
  const j = JSON.parse(line.slice('WRK_JSON '.length))
  const durationS = j.duration_us / 1e6
  return {
    requests: j.requests,
    durationS,
    rps: j.requests / durationS,
    p50Ms: j.p50_us / 1000,
    p90Ms: j.p90_us / 1000,
    p99Ms: j.p99_us / 1000,
    maxMs: j.max_us / 1000,
    errors: j.errors,
  }
}

export interface TransferResult {
  readonly bytes: number
  readonly seconds: number
  readonly mibPerS: number
}

function curlBase(headers: Record<string, string>): string[] {
  const args = ['-sS', '--max-time', '300', '-w', 'CURL %{http_code} %{size_download} %{size_upload} %{time_total}\\n']
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`)
  return args
}

function parseCurl(out: string): { status: number; down: number; up: number; seconds: number } {
  const m = /CURL (\d+) (\d+) (\d+) ([\d.]+)/.exec(out)
  if (m === null) throw new Error(`curl printed no result:\n${out.slice(-2000)}`)
  return { status: Number(m[1]), down: Number(m[2]), up: Number(m[3]), seconds: Number(m[4]) }
}

/** GET `size` bytes with curl into /dev/null. */
export async function runDownload(base: string, headers: Record<string, string>, size: number, logFile: string): Promise<TransferResult> {
  const args = [...curlBase(headers), '-o', '/dev/null', `${base}/download?size=${size}`]
  const r = parseCurl(await finished(spawnLogged('curl-download', 'curl', args, logFile), 'curl download'))
  if (r.status !== 200 || r.down !== size) throw new Error(`download got status ${r.status} and ${r.down} of ${size} bytes`)
  return { bytes: size, seconds: r.seconds, mibPerS: size / 1048576 / r.seconds }
}

/** POST the file `bodyFile` (of `size` bytes) with curl; the origin answers with the size it counted. */
export async function runUpload(base: string, headers: Record<string, string>, bodyFile: string, size: number, logFile: string): Promise<TransferResult> {
  // `Expect:` off: curl would otherwise wait up to 1 s for a `100 Continue` on big bodies.
  const args = [...curlBase(headers), '-H', 'Expect:', '-H', 'content-type: application/octet-stream', '-X', 'POST', '--data-binary', `@${bodyFile}`, `${base}/upload`]
  const out = await finished(spawnLogged('curl-upload', 'curl', args, logFile), 'curl upload')
  const r = parseCurl(out)
  const counted = /"size":(\d+)/.exec(out)
  if (r.status !== 200 || counted === null || Number(counted[1]) !== size) throw new Error(`upload got status ${r.status}, origin counted ${counted?.[1] ?? '?'} of ${size} bytes`)
  return { bytes: size, seconds: r.seconds, mibPerS: size / 1048576 / r.seconds }
}

export interface SseResult {
  readonly received: number
  readonly medianMs: number
  readonly maxMs: number
}

/** Wall-clock ms with sub-ms resolution; the origin stamps events with the same clock. */
const preciseNow = () => performance.timeOrigin + performance.now()

/** Read `n` events sent every `every` ms and measure arrival time minus the origin's `sentAt`. */
export async function runSse(base: string, headers: Record<string, string>, n: number, every: number): Promise<SseResult> {
  const res = await fetch(`${base}/sse?n=${n}&every=${every}`, { headers, signal: AbortSignal.timeout(n * every + 15_000) })
  if (res.status !== 200 || res.body === null) throw new Error(`SSE answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
  const delays: number[] = []
  const decoder = new TextDecoder()
  let buffered = ''
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    const at = preciseNow()
    if (done) break
    buffered += decoder.decode(value, { stream: true })
    let end: number
    while ((end = buffered.indexOf('\n\n')) !== -1) {
      const event = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const m = /"sentAt":([\d.]+)/.exec(event)
      if (m !== null) delays.push(at - Number(m[1]))
    }
  }
  if (delays.length !== n) throw new Error(`SSE delivered ${delays.length} of ${n} events`)
  const sorted = [...delays].sort((a, b) => a - b)
  return { received: delays.length, medianMs: (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2, maxMs: sorted[sorted.length - 1]! }
}
