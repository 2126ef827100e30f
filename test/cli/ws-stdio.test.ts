import { describe, expect, test } from 'bun:test'
import { tunnelUrl } from '../../src/agent/tunnel-url.ts'
import { runtimeCommand, startProcess } from '../support/processes.ts'

describe('ws-stdio URL', () => {
  test.each([
    ['wss://gw.example.com/tunnel', 'wss://gw.example.com/tunnel'],
    ['https://gw.example.com', 'wss://gw.example.com/tunnel'],
    ['http://127.0.0.1:8080/', 'ws://127.0.0.1:8080/tunnel'],
    ['https://host/prefix', 'wss://host/prefix/tunnel'],
    ['https://host/prefix/tunnel/', 'wss://host/prefix/tunnel'],
  ])('%s → %s', (given, expected) => {
    expect(tunnelUrl(given)).toEqual({ ok: true, url: expected })
  })

  test('anything but http(s)/ws(s) is refused', () => {
    expect(tunnelUrl('ftp://x').ok).toBe(false)
    expect(tunnelUrl('gw.example.com').ok).toBe(false)
  })
})

describe('burrow ws-stdio', () => {
  test('without a token, or with a bad URL, it is a usage error (exit 2)', async () => {
    for (const args of [['ws-stdio', 'https://gw'], ['ws-stdio', 'nope', '--token', 't'], ['ws-stdio']]) {
      const [cmd, argv] = runtimeCommand('bun', 'src/cli.ts', args)
      const p = startProcess(cmd, argv, { BURROW_TOKEN: '' })
      expect(await p.exited()).toBe(2)
      expect(p.output()).toContain('burrow ws-stdio: ')
    }
  })

  test('an unreachable gateway exits 1 with the reason', async () => {
    const [cmd, argv] = runtimeCommand('bun', 'src/cli.ts', ['ws-stdio', 'http://127.0.0.1:1', '--token', 't'])
    const p = startProcess(cmd, argv)
    expect(await p.exited()).toBe(1)
    expect(p.output()).toContain('burrow ws-stdio: cannot reach ws://127.0.0.1:1/tunnel')
  })
})
