/**
 * The full fuzz run (`bun run fuzz`): on each runtime's gateway, 10,000 malformed HTTP requests and
 * 10,000 malformed WebSocket/SSH byte sequences, then the checks of fuzz-stage.ts. Prints one line
 * per campaign and exits 1 if anything failed. Options: --runtime=bun,deno,node --http=N --ws=N
 * --seed=N --concurrency=N (the same seed replays the same cases).
 */
import { stopAll, type RuntimeName } from '../../support/processes.ts'
import { httpSeeds } from './corpus.ts'
import { fuzzHttp, fuzzWsSsh } from './campaign.ts'
import { checkAfter, RSS_GROWTH_BOUND_MIB, startFuzzStage, summary } from './fuzz-stage.ts'

function option(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`))
  return arg === undefined ? fallback : arg.slice(name.length + 3)
}

const runtimes = option('runtime', 'bun,deno,node').split(',') as RuntimeName[]
const httpCount = Number(option('http', '10000'))
const wsCount = Number(option('ws', '10000'))
const seed = Number(option('seed', String(Date.now() % 100_000)))
const concurrency = Number(option('concurrency', '32'))

console.log(`fuzz: seed ${seed}, ${httpCount} HTTP + ${wsCount} WebSocket/SSH cases per runtime (${runtimes.join(', ')}), RSS bound ${RSS_GROWTH_BOUND_MIB} MiB`)
const failures: string[] = []
try {
  for (const runtime of runtimes) {
    const f = await startFuzzStage(runtime)
    const http = await fuzzHttp(f.stage, httpSeeds({ port: f.stage.gw.port, alice: f.stage.alice }), { count: httpCount, seed, concurrency })
    console.log(summary(http))
    failures.push(...(await checkAfter(f, http)))
    const ws = await fuzzWsSsh(f.stage, f.token, f.flight, f.sshPort, { count: wsCount, seed, concurrency })
    console.log(summary(ws))
    failures.push(...(await checkAfter(f, ws)))
  }
} finally {
  await stopAll()
}
for (const f of failures) console.log(`FAIL ${f}`)
console.log(failures.length === 0 ? 'fuzz: no crash, no hang, RSS within bound' : `fuzz: ${failures.length} failures`)
process.exit(failures.length === 0 ? 0 : 1)
