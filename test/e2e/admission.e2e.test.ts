/**
 * The admission rule with real processes: a second agent of the same user that finds no free slot
 * is refused with the limit's reason and backs off; it never takes a slot from a live agent, and
 * its own connections never retire each other.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { connectionsOf, countIn, eventually, logLines } from '../support/admin.ts'
import { startAgent, startGateway, startOrigin, stopAll } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

afterAll(stopAll)

// How long the second agent is watched: the loop of issue 14 made ~1.6 connect/retire cycles a second.
const WATCH_MS = 8_000

describe('a second agent of the same user (gateway on Bun)', () => {
  test('is refused with user connection limit (3) for the slot it lacks, backs off, and takes nothing from the first', async () => {
    const [origin, gw] = await Promise.all([startOrigin(), startGateway('bun', { LOG_LEVEL: 'info' })])
    const alice = await tokenFor('alice')
    await startAgent(gw.url, alice, origin.url, { connections: 2, env: { LOG_LEVEL: 'info' } })
    const first = (await connectionsOf(gw.url, 'alice')).map((c) => c.id).sort()
    expect(first).toHaveLength(2)

    const second = await startAgent(gw.url, alice, origin.url, { connections: 2, wait: false, env: { LOG_LEVEL: 'info' } })
    await second.proc.waitFor(/user connection limit \(3\)/, 20_000)
    const startedAt = Date.now()
    // One slot of the second agent is up; the other keeps being refused, with growing pauses.
    await eventually('the second agent to hold one slot', async () => ((await connectionsOf(gw.url, 'alice')).length === 3 ? true : undefined), 10_000)
    const held = (await connectionsOf(gw.url, 'alice')).map((c) => c.id).sort()
    await new Promise((r) => setTimeout(r, WATCH_MS - (Date.now() - startedAt)))

    const now = (await connectionsOf(gw.url, 'alice')).map((c) => c.id).sort()
    // Nothing was replaced or retired: the same three connections stand.
    expect(now).toEqual(held)
    for (const id of first) expect(now).toContain(id)
    expect(logLines(gw.proc, 'connection_retired')).toEqual([])
    // Backing off: attempts of the refused slot, not a loop (the loop made ~13 in 8 s, with no refusal).
    const refusals = logLines(gw.proc, 'tunnel_refused').length
    expect(refusals).toBeGreaterThanOrEqual(1)
    expect(refusals).toBeLessThanOrEqual(6)
    console.log(`[figure] refused attempts of the second agent's extra slot in ~${WATCH_MS / 1000} s: ${refusals}`)
    // The reason is printed once per change, not once per attempt.
    expect(countIn(second.proc, /user connection limit \(3\)\)?\s*\|/)).toBeLessThanOrEqual(2)
    expect(countIn(second.proc, /replaced by a newer connection/)).toBe(0)
  }, 60_000)
})
