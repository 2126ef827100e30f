import { describe, expect, test } from 'bun:test'
import type { AgentStatus } from '../../src/agent/agent.ts'
import { StatusLine } from '../../src/cli/status-line.ts'

const base: AgentStatus = { connected: 1, wanted: 2, ceiling: 2, retryInMs: undefined, lastError: undefined, served: 0, fingerprint: undefined }
const LIMIT = 'refused by the gateway: user connection limit (3)'

describe('StatusLine off a terminal', () => {
  test('prints a refusal once, not once per retry with its new countdown', () => {
    const lines: string[] = []
    let current = base
    const line = new StatusLine((t) => lines.push(t), false, () => current)
    // One slot refused again and again: reconnecting in…, connecting, reconnecting in… (longer).
    for (const retryInMs of [800, undefined, 1600, undefined, 3100, undefined, 7000]) {
      current = { ...base, lastError: LIMIT, retryInMs }
      line.show(current)
    }
    expect(lines).toEqual([`burrow agent: reconnecting in 0.8 s (1/2 up; ${LIMIT}) | requests served: 0\n`])
  })

  test('prints again when the reason or the count of connections changes', () => {
    const lines: string[] = []
    let current = base
    const line = new StatusLine((t) => lines.push(t), false, () => current)
    for (const s of [
      { ...base, lastError: LIMIT, retryInMs: 900 },
      { ...base, lastError: 'cannot reach the gateway: ECONNREFUSED', retryInMs: 1900 },
      { ...base, connected: 2, lastError: 'cannot reach the gateway: ECONNREFUSED' },
    ]) {
      current = s
      line.show(s)
    }
    expect(lines).toEqual([
      `burrow agent: reconnecting in 0.9 s (1/2 up; ${LIMIT}) | requests served: 0\n`,
      'burrow agent: reconnecting in 1.9 s (1/2 up; cannot reach the gateway: ECONNREFUSED) | requests served: 0\n',
      'burrow agent: connected (2/2) | requests served: 0\n',
    ])
    line.finish()
  })
})
