import { describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/log/logger.ts'

describe('createLogger', () => {
  test('json: one JSON object per line with time, level, event and the fields; below the level nothing', () => {
    const lines: string[] = []
    const log = createLogger('info', (l) => lines.push(l))
    log.debug('hidden', { a: 1 })
    log.warn('upstream_error', { requestId: 'r1', user: 'alice', message: 'multi\nline' })
    expect(lines).toHaveLength(1)
    expect(lines[0]!.includes('\n')).toBe(false)
    const rec = JSON.parse(lines[0]!)
    expect(rec).toEqual({ time: expect.any(String), level: 'warn', event: 'upstream_error', requestId: 'r1', user: 'alice', message: 'multi\nline' })
    expect(Number.isNaN(Date.parse(rec.time))).toBe(false)
    expect([log.enabled('debug'), log.enabled('info'), log.enabled('error')]).toEqual([false, true, true])
  })

  test('pretty: one text line, time, padded level, event, key=value; values with spaces or newlines quoted', () => {
    const lines: string[] = []
    const log = createLogger('debug', (l) => lines.push(l), 'pretty')
    log.info('request', { requestId: 'r1', status: 200, path: '/a b', note: 'two\nlines', nested: { x: 1 }, skipped: undefined, err: new Error('boom') })
    expect(lines).toHaveLength(1)
    const line = lines[0]!
    expect(line.includes('\n')).toBe(false)
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  request requestId=r1 status=200 path="\/a b" note="two\\nlines" nested=\{"x":1\} err={"name":"Error","message":"boom"/)
    expect(line).toContain('boom')
    expect(line).not.toContain('skipped')
  })
})
