import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { stopAll, type RuntimeName } from '../support/processes.ts'
import { fuzzHttp, fuzzWsSsh } from './fuzz/campaign.ts'
import { httpSeeds } from './fuzz/corpus.ts'
import { checkAfter, startFuzzStage, summary, type FuzzStage } from './fuzz/fuzz-stage.ts'
import { RUNTIMES } from './support/harness.ts'

afterAll(stopAll)

/**
 * A sample of `bun run fuzz` (test/security/fuzz/run.ts, 10,000 + 10,000 cases per runtime) that
 * keeps the suite fast: more cases on Bun, the primary runtime, fewer on Deno and Node. A new seed
 * every run widens coverage over time; the seed is in every test's name, `FUZZ_SEED=N npm test`
 * replays the sample and `bun run fuzz --seed=N --runtime=R` the whole run.
 */
const SAMPLE: Record<RuntimeName, number> = { bun: 2000, deno: 500, node: 500 }
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000)

const stages = {} as Record<RuntimeName, FuzzStage>
beforeAll(async () => {
  const all = await Promise.all(RUNTIMES.map((r) => startFuzzStage(r)))
  RUNTIMES.forEach((r, i) => (stages[r] = all[i]!))
})

for (const runtime of RUNTIMES) {
  describe(`fuzz sample (gateway on ${runtime}, seed ${seed})`, () => {
    test(`${SAMPLE[runtime]} malformed HTTP requests: no crash, no hang, RSS within bound, nothing malformed or misrouted forwarded`, async () => {
      const f = stages[runtime]
      const report = await fuzzHttp(f.stage, httpSeeds({ port: f.stage.gw.port, alice: f.stage.alice }), { count: SAMPLE[runtime], seed, concurrency: 32 })
      console.log(summary(report))
      expect(await checkAfter(f, report)).toEqual([])
    }, 60_000)

    test(`${SAMPLE[runtime]} malformed WebSocket/SSH byte sequences: no crash, no hang, RSS within bound, no connection left open`, async () => {
      const f = stages[runtime]
      const report = await fuzzWsSsh(f.stage, f.token, f.flight, f.sshPort, { count: SAMPLE[runtime], seed, concurrency: 32 })
      console.log(summary(report))
      expect(await checkAfter(f, report)).toEqual([])
    }, 60_000)
  })
}
