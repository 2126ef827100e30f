import { describe, expect, test } from 'bun:test'
import { upstreamHost } from '../../src/gateway/upstream-host.ts'

describe('upstreamHost(): the Host a local service gets', () => {
  const fwd = (bindAddr: string, bindPort: number) => ({ bindAddr, bindPort })
  test.each([
    ['the agent asked for a value (rewrite: its target)', '127.0.0.1:11434', fwd('localhost', 80), 'gw.example.com', '127.0.0.1:11434'],
    ['the agent said preserve', 'preserve', fwd('localhost', 80), 'gw.example.com', 'gw.example.com'],
    ['OpenSSH -R 80:localhost:3000', undefined, fwd('localhost', 80), 'gw.example.com', 'localhost'],
    ['OpenSSH -R 11434:localhost:11434', undefined, fwd('localhost', 11434), 'gw.example.com', 'localhost:11434'],
    ['OpenSSH -R :8080:… (any interface)', undefined, fwd('', 8080), 'gw.example.com', 'localhost:8080'],
    ['OpenSSH -R 0.0.0.0:80:…', undefined, fwd('0.0.0.0', 80), 'gw.example.com', 'localhost'],
    ['OpenSSH -R myapp.local:80:…', undefined, fwd('myapp.local', 80), 'gw.example.com', 'myapp.local'],
    ['OpenSSH -R [::1]:3000:…', undefined, fwd('::1', 3000), 'gw.example.com', '[::1]:3000'],
    ['no forward yet (cannot happen for a serving connection)', undefined, undefined, 'gw.example.com', 'gw.example.com'],
  ])('%s', (_name, choice, forward, consumer, expected) => {
    expect(upstreamHost(choice, forward, consumer)).toBe(expected)
  })
})
