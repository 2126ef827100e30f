import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { stopAll, type RuntimeName } from '../support/processes.ts'
import { summary } from './fuzz/fuzz-stage.ts'
import { fuzzResponses } from './fuzz/response-campaign.ts'
import { startResponseStage, type ResponseStage } from './fuzz/response-stage.ts'
import { RUNTIMES } from './support/harness.ts'

afterAll(stopAll)

/**
 * A sample of the response-direction fuzz (`bun run fuzz --direction=response`, 5,000 cases per
 * runtime): a hostile local service answers with seeded, mutated, split and delayed bytes, and each
 * consumer must get the service's response faithfully (or visibly cut), a 502, or a 504 when the
 * head never came; after each batch the gateway is alive, no channel slot is left busy, the agents
 * are still connected, bob's tunnel answers and nothing alarming was printed. A new seed every run;
 * a failure prints it, and `bun run fuzz --direction=response --seed=N --runtime=R` replays it.
 */
const SAMPLE: Record<RuntimeName, number> = { bun: 400, deno: 250, node: 250 }
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000)

const stages = {} as Record<RuntimeName, ResponseStage>
beforeAll(async () => {
  const all = await Promise.all(RUNTIMES.map((r) => startResponseStage(r)))
  RUNTIMES.forEach((r, i) => (stages[r] = all[i]!))
})

for (const runtime of RUNTIMES) {
  describe(`response fuzz sample (gateway on ${runtime}, seed ${seed})`, () => {
    test(`${SAMPLE[runtime]} responses from a hostile local service: each relayed faithfully or visibly cut, or 502/504; no crash, hang, leak or stack trace`, async () => {
      const report = await fuzzResponses(stages[runtime], { count: SAMPLE[runtime], seed, concurrency: 16, batch: 200 })
      console.log(`${summary(report)}; ${report.origin.reused} of ${report.origin.requests} requests on a kept-alive connection`)
      expect(report.failures).toEqual([])
      // The sample reaches the paths it is meant to: relayed answers, refusals, kept-alive reuse.
      expect(report.outcomes).toMatchObject({ relayed: expect.any(Number), '502': expect.any(Number) })
      expect(report.origin.reused).toBeGreaterThan(0)
    }, 60_000)
  })
}
