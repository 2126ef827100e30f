/**
 * A stage for fuzzing (harness.ts, plus SSH_PORT and limits off so that every case reaches the
 * parsers), and the checks made after a campaign beyond the monitor's: no connection left behind,
 * nothing but probes reached bob's service, nothing malformed reached alice's, no unhandled error.
 */
import { connectionsOf } from '../../support/admin.ts'
import type { RuntimeName } from '../../support/processes.ts'
import { tokenFor } from '../../support/tokens.ts'
import { seenBy, sshPortOf, startStage, type Stage } from '../support/harness.ts'
import { recordSshFlight } from './corpus.ts'
import type { CampaignReport } from './campaign.ts'

/**
 * The bound on RSS growth (peak over the gateway's RSS before the campaign) stated in README
 * (Security model) and checked by every campaign. Seen in 10,000-case runs: Bun up to 70 MiB,
 * Node 45 MiB, Deno 160 MiB (Deno keeps a WebSocket whose client half-closed until the server
 * closes it, here at SSH_HANDSHAKE_TIMEOUT; the memory comes back once they are closed).
 */
export const RSS_GROWTH_BOUND_MIB = 256

export interface FuzzStage {
  readonly stage: Stage
  readonly sshPort: number
  /** The token the WebSocket cases upgrade with (user `fuzz`). */
  readonly token: string
  readonly flight: Buffer[]
}

export async function startFuzzStage(runtime: RuntimeName): Promise<FuzzStage> {
  const stage = await startStage(runtime, {
    SSH_PORT: '0',
    SSH_HANDSHAKE_TIMEOUT: '2000',
    RATE_LIMIT_IP_PER_SECOND: '0',
    RATE_LIMIT_USER_PER_SECOND: '0',
    RATE_LIMIT_AGENT_PER_MINUTE: '0',
    LOG_LEVEL: 'error',
  })
  const [sshPort, token] = await Promise.all([sshPortOf(stage.gw), tokenFor('fuzz')])
  const flight = await recordSshFlight(stage.gw.port, token, 'fuzz')
  await Promise.all([seenBy(stage.originA), seenBy(stage.originB)])
  return { stage, sshPort, token, flight }
}

/** Failures found after `report`'s campaign, on top of the report's own. */
export async function checkAfter(f: FuzzStage, report: CampaignReport): Promise<string[]> {
  const failures = [...report.failures]
  const { stage } = f
  const kind = `${report.runtime} ${report.kind}`
  const growth = (report.rss.peak - report.rss.before) / 1024 / 1024
  if (growth > RSS_GROWTH_BOUND_MIB) failures.push(`${kind}: RSS grew ${growth.toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND_MIB} MiB)`)
  // Every fuzz connection is gone within the handshake timeout (2 s) and a close handshake.
  const deadline = Date.now() + 10_000
  let left = await connectionsOf(stage.gw.url, 'fuzz')
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    left = await connectionsOf(stage.gw.url, 'fuzz')
  }
  if (left.length > 0) failures.push(`${kind}: ${left.length} fuzz connections still open 10 s after the campaign`)
  const [a, b] = await Promise.all([seenBy(stage.originA), seenBy(stage.originB)])
  const strangers = b.requests.filter((r) => r.url !== '/probe')
  if (strangers.length > 0) failures.push(`${kind}: bob's service received ${strangers.length} requests that were not probes, e.g. ${JSON.stringify(strangers[0]).slice(0, 300)}`)
  if (a.parseErrors.length + b.parseErrors.length > 0) failures.push(`${kind}: a local service received malformed HTTP: ${[...a.parseErrors, ...b.parseErrors].slice(0, 3).join(' | ')}`)
  const unhandled = stage.gw.proc.output().match(/"event":"unhandled_error".*/g) ?? []
  if (unhandled.length > 0) failures.push(`${kind}: ${unhandled.length} unhandled errors, e.g. ${unhandled[0]!.slice(0, 300)}`)
  return failures
}

/** One line per campaign for logs and the script's report. */
export function summary(r: CampaignReport): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`
  const top = Object.entries(r.outcomes)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 8)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ')
  return `${r.runtime} ${r.kind}: ${r.count} cases in ${(r.durationMs / 1000).toFixed(1)} s, RSS ${mib(r.rss.before)} -> peak ${mib(r.rss.peak)} -> ${mib(r.rss.after)}, ${r.probes} probes, outcomes ${top}`
}
