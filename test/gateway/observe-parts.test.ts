import { describe, expect, test } from 'bun:test'
import { INSPECTOR_DEPTH, Inspector } from '../../src/gateway/inspector.ts'
import { LATENCY_BUCKETS_S, LatencyHistogram } from '../../src/gateway/latency-histogram.ts'
import { Observer } from '../../src/gateway/observer.ts'
import { withoutQuerySecrets, TARGET_MAX } from '../../src/gateway/query-secrets.ts'
import { RateTimeline, SLOT_MS, SLOTS } from '../../src/gateway/rate-timeline.ts'
import { RequestRecord } from '../../src/gateway/request-record.ts'
import { userLabels } from '../../src/gateway/user-labels.ts'

describe('withoutQuerySecrets', () => {
  test.each([
    ['/a', '/a'],
    ['/a?x=1&burrow_token=T&api_key=K', '/a?x=1'],
    ['/cb?code=abc&state=s', '/cb?state=s'],
    ['/s3?X-Amz-Signature=deadbeef&X-Amz-Date=1', '/s3?X-Amz-Date=1'],
    ['/a?access_token=1&ACCESS%5FTOKEN=2&password=p&pwd=q&sessionid=z&jwt=j&otp=1', '/a'],
    ['/a?q=token+free+text&page=2', '/a?q=token+free+text&page=2'],
    ['/a?%E0%A4%A=1&b=2', '/a?%E0%A4%A=1&b=2'],
    ['/a?&&x', '/a?x'],
  ])('%s → %s', (target, shown) => expect(withoutQuerySecrets(target)).toBe(shown))

  test(`cut at ${TARGET_MAX} characters`, () => {
    const shown = withoutQuerySecrets('/' + 'a'.repeat(2000))
    expect(shown).toHaveLength(TARGET_MAX + 1)
    expect(shown.endsWith('…')).toBe(true)
  })
})

describe('LatencyHistogram', () => {
  test('counts per bucket (upper bound inclusive), sum, count, and quantiles interpolated as histogram_quantile', () => {
    const h = new LatencyHistogram()
    expect(h.quantile(0.5)).toBeUndefined()
    for (const s of [0.001, 0.002, 0.002, 0.02, 100_000]) h.observe(s)
    expect(h.count).toBe(5)
    expect(h.sum).toBeCloseTo(100_000.025, 6)
    expect(h.counts[0]).toBe(1)
    expect(h.counts[1]).toBe(2)
    expect(h.counts[LATENCY_BUCKETS_S.length]).toBe(1)
    // rank 2.5 of 5 lies in (0.001, 0.0025]: 1 seen before, 2 in it → 0.001 + 0.0015 × 0.75.
    expect(h.quantile(0.5)!).toBeCloseTo(0.002125, 9)
    expect(h.quantile(1)).toBe(LATENCY_BUCKETS_S.at(-1))
    const other = new LatencyHistogram()
    other.add(h)
    expect([other.count, other.sum]).toEqual([h.count, h.sum])
    other.clear()
    expect(other.count).toBe(0)
  })
})

describe('RateTimeline', () => {
  test('requests and 5xx per 10 s slot, the last 15 minutes, old slots cleared as time moves', () => {
    const t = new RateTimeline()
    const t0 = 1_000 * SLOT_MS
    t.record(t0 + 1, 0.01, 200)
    t.record(t0 + 2, 0.02, 503)
    t.record(t0 + SLOT_MS, 0.5, 200)
    const pts = t.points(t0 + SLOT_MS, 3)
    expect(pts).toEqual([
      { at: t0 - SLOT_MS, requests: 0, errors: 0 },
      { at: t0, requests: 2, errors: 1 },
      { at: t0 + SLOT_MS, requests: 1, errors: 0 },
    ])
    expect(t.latency(t0 + SLOT_MS, 2).count).toBe(3)
    expect(t.latency(t0 + SLOT_MS, 1).count).toBe(1)
    // A quarter of an hour later everything has rolled out.
    const later = t0 + SLOTS * SLOT_MS + SLOT_MS
    expect(t.points(later).every((p) => p.requests === 0)).toBe(true)
    expect(t.points(later)).toHaveLength(SLOTS)
  })
})

describe('Inspector and Observer', () => {
  const rec = (i: number, tunnel = 'alice') => new RequestRecord(`id-${i}`, tunnel, 'GET', `/p/${i}?access_token=x`, '127.0.0.1')

  test(`the last ${INSPECTOR_DEPTH} requests per tunnel, newest first, running ones shown as running`, () => {
    const insp = new Inspector()
    for (let i = 0; i < INSPECTOR_DEPTH + 5; i++) insp.add(rec(i))
    insp.add(rec(0, 'bob'))
    const list = insp.list('alice')
    expect(list).toHaveLength(INSPECTOR_DEPTH)
    expect(list[0]).toMatchObject({ requestId: `id-${INSPECTOR_DEPTH + 4}`, path: `/p/${INSPECTOR_DEPTH + 4}`, running: true, status: 0 })
    expect(list.at(-1)!.requestId).toBe('id-5')
    expect(insp.list('bob')).toHaveLength(1)
    expect(insp.list('carol')).toEqual([])
  })

  test('finish() fixes the duration once and feeds the histograms; open streams come and go; disabled keeps nothing', () => {
    const o = new Observer(true)
    const r = rec(1)
    o.begin(r)
    r.queuedMs = 1
    o.answered(r, 200, true)
    expect(o.openStreams.http).toBe(1)
    r.countIn(10)
    o.finish(r)
    o.finish(r)
    expect(o.openStreams.http).toBe(0)
    expect(o.duration[1 * 2 + 1]!.count).toBe(1)
    expect([o.ttfb.count, o.queueWait.count]).toEqual([1, 1])
    expect(o.inspector.list('alice')[0]).toMatchObject({ running: false, status: 200, bytesIn: 10, streamed: true })
    const off = new Observer(false)
    const q = rec(2)
    off.begin(q)
    off.answered(q, 502, false)
    off.finish(q)
    expect([off.duration.every((h) => h.count === 0), off.inspector.list('alice')]).toEqual([true, []])
  })

  test('an ended request stays in the inspector as a copy: its record can be collected; a running one still shows live bytes', () => {
    const o = new Observer(true)
    // Made in a function of its own so that no local variable of the test keeps the record alive.
    const endOne = () => {
      const r = rec(7)
      o.begin(r)
      o.answered(r, 201, false)
      r.countIn(42)
      o.finish(r)
      return new WeakRef(r)
    }
    const gone = endOne()
    const running = rec(8)
    o.begin(running)
    running.countOut(9)
    Bun.gc(true)
    expect(gone.deref()).toBeUndefined()
    const [now, ended] = o.inspector.list('alice')
    expect(now).toMatchObject({ requestId: 'id-8', running: true, bytesOut: 9 })
    running.countOut(1)
    expect(o.inspector.list('alice')[0]!.bytesOut).toBe(10)
    expect(ended).toMatchObject({ requestId: 'id-7', path: '/p/7', running: false, status: 201, bytesIn: 42, client: '127.0.0.1' })
  })

  test('a request that ends after 100 newer ones took its slot leaves the newer one alone', () => {
    const o = new Observer(true)
    const old = rec(0)
    o.begin(old)
    for (let i = 1; i <= INSPECTOR_DEPTH; i++) o.begin(rec(i))
    old.status = 200
    o.finish(old)
    const list = o.inspector.list('alice')
    expect(list).toHaveLength(INSPECTOR_DEPTH)
    expect(list.at(-1)).toMatchObject({ requestId: 'id-1', running: true })
  })

  test('a record counts bytes into the totals, the user and the connection as they flow', () => {
    const r = rec(3)
    const totals = { requests: 0, bytesIn: 0, bytesOut: 0 }
    const user = { requests: 0, bytesIn: 0, bytesOut: 0 }
    const conn = { bytesIn: 0, bytesOut: 0 }
    r.countIn(5)
    r.meterInto(totals, user, conn)
    r.countIn(7)
    r.countOut(3)
    expect([r.bytesIn, r.bytesOut, totals.bytesIn, user.bytesOut, conn.bytesIn]).toEqual([12, 3, 7, 3, 7])
  })
})

describe('userLabels', () => {
  const users = (n: number): [string, { requests: number; bytesIn: number; bytesOut: number }][] =>
    Array.from({ length: n }, (_, i) => [`u${i}`, { requests: i, bytesIn: 0, bytesOut: 0 }])

  test('the top N by requests keep their name, the rest are _other; Infinity names everyone', () => {
    const label = userLabels(users(50), 3)
    expect(['u49', 'u48', 'u47', 'u46', 'u0'].map(label)).toEqual(['u49', 'u48', 'u47', '_other', '_other'])
    expect(userLabels(users(50), Infinity)('u0')).toBe('u0')
    expect(userLabels(users(5), 0)('u4')).toBe('_other')
  })
})
