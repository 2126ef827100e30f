/**
 * The full fuzz run (`bun run fuzz`), on each runtime's gateway:
 * - request direction: 10,000 malformed HTTP requests and 10,000 malformed WebSocket/SSH byte
 *   sequences, then the checks of fuzz-stage.ts;
 * - response direction: 5,000 responses from a hostile local service (response-campaign.ts), with
 *   the checks of response-stage.ts after every batch.
 * Prints the seed and one line per campaign, and exits 1 if anything failed. Options:
 * --direction=request,response --runtime=bun,deno,node --count=N (every campaign) --http=N --ws=N
 * --responses=N --seed=N (or FUZZ_SEED; the same seed replays the same cases) --concurrency=N
 * --batch=N (response cases between checks).
 */
import { stopAll, type RuntimeName } from '../../support/processes.ts'
import { httpSeeds } from './corpus.ts'
import { fuzzHttp, fuzzWsSsh } from './campaign.ts'
import { checkAfter, RSS_GROWTH_BOUND_MIB, startFuzzStage, summary } from './fuzz-stage.ts'
import { fuzzResponses } from './response-campaign.ts'
import { startResponseStage } from './response-stage.ts'

function option(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg === undefined ? fallback : arg.slice(name.length + 3)
}

const directions = option('direction', 'request,response').split(',')
const runtimes = option('runtime', 'bun,deno,node').split(',') as RuntimeName[]
const count = option('count', '')
const httpCount = Number(option('http', count || '10000'))
const wsCount = Number(option('ws', count || '10000'))
const responseCount = Number(option('responses', count || '5000'))
const seed = Number(option('seed', process.env.FUZZ_SEED ?? String(Date.now() % 100_000)))
const concurrency = Number(option('concurrency', '32'))
const batch = Number(option('batch', '500'))
const request = directions.includes('request')
const response = directions.includes('response')

console.log(
  `fuzz: seed ${seed} (replay with --seed=${seed} or FUZZ_SEED=${seed}), per runtime (${runtimes.join(', ')}): ` +
    [request ? `${httpCount} HTTP + ${wsCount} WebSocket/SSH request cases` : '', response ? `${responseCount} response cases` : ''].filter(Boolean).join(', ') +
    `, RSS bound ${RSS_GROWTH_BOUND_MIB} MiB`,
)
const failures: string[] = []
try {
  for (const runtime of runtimes) {
    if (request) {
      const f = await startFuzzStage(runtime)
      const http = await fuzzHttp(f.stage, httpSeeds({ port: f.stage.gw.port, alice: f.stage.alice }), { count: httpCount, seed, concurrency })
      console.log(summary(http))
      failures.push(...(await checkAfter(f, http)))
      const ws = await fuzzWsSsh(f.stage, f.token, f.flight, f.sshPort, { count: wsCount, seed, concurrency })
      console.log(summary(ws))
      failures.push(...(await checkAfter(f, ws)))
    }
    if (response) {
      // Fewer at a time than the request campaigns: alice's agent has 2 connections of 10 channels.
      const rs = await startResponseStage(runtime)
      const report = await fuzzResponses(rs, { count: responseCount, seed, concurrency: Math.min(concurrency, 16), batch })
      console.log(`${summary(report)}; the service got ${report.origin.requests} requests on ${report.origin.connections} connections, ${report.origin.reused} on a kept-alive one`)
      failures.push(...report.failures)
    }
    await stopAll()
  }
} finally {
  await stopAll()
}
for (const f of failures) console.log(`FAIL ${f}`)
console.log(failures.length === 0 ? `fuzz: no crash, no hang, RSS within bound (seed ${seed})` : `fuzz: ${failures.length} failures (seed ${seed})`)
process.exit(failures.length === 0 ? 0 : 1)
