import { describe, expect, test } from 'bun:test'
import { humanDuration, tokenExpiry, warnBeforeExpiry } from '../../src/agent/token-warnings.ts'
import { tokenFor } from '../support/tokens.ts'

describe('token expiry warnings', () => {
  test('tokenExpiry() reads exp in ms; humanDuration() says it as a person would', async () => {
    const before = Date.now()
    const exp = tokenExpiry(await tokenFor('alice', 3600))!
    expect(exp).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000)
    expect(tokenExpiry('not a token')).toBeUndefined()
    expect([humanDuration(59_000), humanDuration(5 * 60_000), humanDuration(60 * 60_000), humanDuration(125 * 60_000)]).toEqual(['1 min', '5 min', '1 h', '2 h 5 min'])
  })

  test('a token with under an hour left is warned about at once; one with days left is not yet', () => {
    const said: string[] = []
    const stopSoon = warnBeforeExpiry(1_000_000 + 30 * 60_000, (t) => said.push(t), () => 1_000_000)
    const stopLater = warnBeforeExpiry(1_000_000 + 40 * 24 * 3_600_000, (t) => said.push(t), () => 1_000_000)
    stopSoon()
    stopLater()
    expect(said).toHaveLength(1)
    expect(said[0]).toStartWith('the token expires in 30 min (')
  })
})
