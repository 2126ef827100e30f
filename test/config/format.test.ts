import { describe, expect, test } from 'bun:test'
import { ConfigError, configFromEnv, formatConfigIssues } from '../../src/config/index.ts'

describe('formatConfigIssues', () => {
  test('one headline, then one line per issue naming the variable, expectation and value', () => {
    const result = configFromEnv({ PORT: '70000', MAX_CONNECTIONS_PER_USER: 'abc', SSH_MAX_CHANNELS: '0' })
    if (result.ok) throw new Error('expected issues')
    expect(formatConfigIssues(result.issues).split('\n')).toEqual([
      'Cannot start: invalid configuration (3 issues)',
      '  PORT: expected an integer from 0 to 65535, received "70000"',
      '  MAX_CONNECTIONS_PER_USER: expected an integer from 1 to 1000, received "abc"',
      '  SSH_MAX_CHANNELS: expected an integer from 1 to 1000, received "0"',
    ])
  })

  test('says "1 issue" for one', () => {
    expect(formatConfigIssues([{ variable: 'port', received: '-1', expected: 'an integer from 0 to 65535' }])).toBe(
      'Cannot start: invalid configuration (1 issue)\n  port: expected an integer from 0 to 65535, received "-1"',
    )
  })

  test('quotes received values so whitespace and quotes stay visible', () => {
    expect(formatConfigIssues([{ variable: 'HOST', received: 'a "b"\n', expected: 'x' }])).toContain('received "a \\"b\\"\\n"')
  })
})

describe('ConfigError', () => {
  test('carries the issues as data and as its message', () => {
    const issues = [{ variable: 'port', received: '-1', expected: 'an integer from 0 to 65535' }]
    const error = new ConfigError(issues)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('ConfigError')
    expect(error.issues).toEqual(issues)
    expect(error.message).toBe(formatConfigIssues(issues))
  })
})
