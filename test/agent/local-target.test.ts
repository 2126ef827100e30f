import { describe, expect, test } from 'bun:test'
import { parseTarget } from '../../src/agent/local-target.ts'

describe('parseTarget (--to)', () => {
  test.each([
    ['3000', { host: '127.0.0.1', port: 3000 }],
    ['127.0.0.1:11434', { host: '127.0.0.1', port: 11434 }],
    ['http://localhost:8080', { host: 'localhost', port: 8080 }],
    ['http://localhost:8080/', { host: 'localhost', port: 8080 }],
    ['http://[::1]:9000', { host: '::1', port: 9000 }],
    ['http://example.internal', { host: 'example.internal', port: 80 }],
  ])('%s → %o', (to, want) => {
    expect(parseTarget(to)).toEqual(want)
  })

  test.each([
    ['0', 'port 0'],
    ['70000', 'a bare port above 65535'],
    ['127.0.0.1:99999', 'a port above 65535'],
    ['http://127.0.0.1:0', 'port 0 in a URL'],
    ['https://127.0.0.1:443', 'another scheme'],
    ['http://127.0.0.1:3000/api', 'a path (it would be dropped: each request keeps its own)'],
    ['http://127.0.0.1:3000/?x=1', 'a query'],
    ['http://user:pw@127.0.0.1:3000', 'credentials'],
    ['', 'nothing'],
  ])('%s is refused (%s)', (to) => {
    expect(parseTarget(to)).toBeUndefined()
  })
})
