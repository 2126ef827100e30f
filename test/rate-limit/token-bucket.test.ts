import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { isFull, level, take, type Bucket, type BucketLimit } from '../../src/rate-limit/token-bucket.ts'

const limit: BucketLimit = { perSecond: 2, burst: 3 }

interface Case {
  name: string
  bucket: Bucket | undefined
  now: number
  expected: ReturnType<typeof take>
}

const cases: Case[] = [
  {
    name: 'take() on a bucket never seen admits and leaves burst - 1',
    bucket: undefined,
    now: 1000,
    expected: { ok: true, bucket: { tokens: 2, at: 1000 } },
  },
  {
    name: 'take() admits while a token is left',
    bucket: { tokens: 1, at: 1000 },
    now: 1000,
    expected: { ok: true, bucket: { tokens: 0, at: 1000 } },
  },
  {
    name: 'take() refuses an empty bucket and says when the next token comes (1 / 2 per s = 500 ms)',
    bucket: { tokens: 0, at: 1000 },
    now: 1000,
    expected: { ok: false, bucket: { tokens: 0, at: 1000 }, retryAfterMs: 500 },
  },
  {
    name: 'take() refills by elapsed time: 250 ms at 2/s is half a token, still refused, 250 ms to go',
    bucket: { tokens: 0, at: 1000 },
    now: 1250,
    expected: { ok: false, bucket: { tokens: 0.5, at: 1250 }, retryAfterMs: 250 },
  },
  {
    name: 'take() admits once a whole token has refilled',
    bucket: { tokens: 0, at: 1000 },
    now: 1500,
    expected: { ok: true, bucket: { tokens: 0, at: 1500 } },
  },
  {
    name: 'take() never refills above the burst, however long the quiet spell',
    bucket: { tokens: 0, at: 0 },
    now: 3_600_000,
    expected: { ok: true, bucket: { tokens: 2, at: 3_600_000 } },
  },
  {
    name: 'take() with a clock that went backwards refills nothing and keeps the later time',
    bucket: { tokens: 0.5, at: 5000 },
    now: 1000,
    expected: { ok: false, bucket: { tokens: 0.5, at: 5000 }, retryAfterMs: 250 },
  },
]

describe('token bucket', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(take(c.bucket, c.now, limit)).toEqual(c.expected)
  })

  test('take() with a rate of one a minute asks to wait the full minute', () => {
    const perMinute = { perSecond: 1 / 60, burst: 1 }
    const first = take(undefined, 0, perMinute)
    expect(first.ok).toBe(true)
    expect(take(first.bucket, 0, perMinute)).toMatchObject({ ok: false, retryAfterMs: 60_000 })
  })

  test('level() and isFull(): a bucket that refilled completely can be forgotten', () => {
    expect(level(undefined, 0, limit)).toBe(3)
    expect(isFull({ tokens: 0, at: 0 }, 1499, limit)).toBe(false)
    expect(isFull({ tokens: 0, at: 0 }, 1500, limit)).toBe(true)
  })

  test('property: in any run of attempts, admitted ≤ burst + rate × elapsed, and a refusal only when under one token', () => {
    fc.assert(
      fc.property(
        fc.record({ perSecond: fc.integer({ min: 1, max: 50 }), burst: fc.integer({ min: 1, max: 20 }) }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 200 }),
        (lim, gaps) => {
          let bucket: Bucket | undefined
          let now = 0
          let admitted = 0
          for (const gap of gaps) {
            now += gap
            const before = level(bucket, now, lim)
            const r = take(bucket, now, lim)
            if (r.ok) admitted++
            else {
              expect(before).toBeLessThan(1)
              expect(r.retryAfterMs).toBeGreaterThan(0)
            }
            expect(r.bucket.tokens).toBeGreaterThanOrEqual(0)
            expect(r.bucket.tokens).toBeLessThanOrEqual(lim.burst)
            bucket = r.bucket
          }
          expect(admitted).toBeLessThanOrEqual(lim.burst + (now * lim.perSecond) / 1000 + 1e-9)
        },
      ),
      { numRuns: 1000 },
    )
  })

  test('property: waiting retryAfterMs is always enough for the next attempt', () => {
    fc.assert(
      fc.property(
        fc.record({ perSecond: fc.integer({ min: 1, max: 1000 }), burst: fc.integer({ min: 1, max: 5 }) }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (lim, tokens) => {
          const r = take({ tokens, at: 0 }, 0, lim)
          if (r.ok) throw new Error('under one token must be refused')
          expect(take(r.bucket, r.retryAfterMs, lim).ok).toBe(true)
        },
      ),
      { numRuns: 1000 },
    )
  })
})
