import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { resolve } from 'node:path'
import { pooledRandomFill } from '../../src/wire/ssh2.ts'

const ROOT = resolve(import.meta.dir, '../..')

describe("ssh2's packet padding from a pool (src/wire/ssh2.ts)", () => {
  test('small fills get fresh bytes at the offset asked, and nothing outside it', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2_000; i++) {
      const buf = Buffer.alloc(64, 0xaa)
      pooledRandomFill(buf, 10, 16)
      expect(buf.subarray(0, 10).every((b) => b === 0xaa)).toBe(true)
      expect(buf.subarray(26).every((b) => b === 0xaa)).toBe(true)
      seen.add(buf.subarray(10, 26).toString('hex'))
    }
    // 2,000 fills of 16 bytes across several pool refills: no two alike.
    expect(seen.size).toBe(2_000)
  })

  test('other shapes and bad arguments behave as crypto.randomFillSync does (same errors)', () => {
    const errorOf = (f: () => unknown) => {
      try {
        f()
        return 'no error'
      } catch (err) {
        return (err as Error).name
      }
    }
    const buf = Buffer.alloc(8)
    expect(errorOf(() => pooledRandomFill(buf, 6, 4))).toBe(errorOf(() => randomFillSync(buf, 6, 4)))
    expect(errorOf(() => pooledRandomFill(buf, -1, 2))).toBe(errorOf(() => randomFillSync(buf, -1, 2)))
    const big = Buffer.alloc(4096)
    expect(pooledRandomFill(big, 0, 4096)).toBe(big)
    expect(big.some((b) => b !== 0)).toBe(true)
    const whole = new Uint32Array(4)
    expect(pooledRandomFill(whole)).toBe(whole)
  })

  for (const runtime of ['bun', 'node', 'deno'] as const) {
    test(`on ${runtime}: ssh2 loaded through it pads every packet from the pool, and the process keeps the real crypto.randomFillSync`, () => {
      const script = `
        import crypto from 'node:crypto'
        const before = crypto.randomFillSync
        const { default: ssh2, pooledRandomBytesServed } = await import('./src/wire/ssh2.ts')
        const restored = crypto.randomFillSync === before
        const { utils } = ssh2
        const hostKey = utils.generateKeyPairSync('ed25519').private
        const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
          client.on('authentication', (ctx) => ctx.accept())
          client.on('ready', () => client.end())
        })
        await new Promise((r) => server.listen(0, '127.0.0.1', r))
        const conn = new ssh2.Client()
        await new Promise((r, j) => { conn.on('ready', r); conn.on('error', j); conn.connect({ host: '127.0.0.1', port: server.address().port, username: 'u', password: 'p' }) })
        conn.end(); server.close()
        console.log(JSON.stringify({ restored, served: pooledRandomBytesServed() }))
        process.exit(0)
      `
      const cmd =
        runtime === 'bun' ? [process.execPath, ['-e', script]] :
        runtime === 'node' ? ['node', ['--import', 'tsx', '--input-type=module', '-e', script]] :
        [resolve(ROOT, 'node_modules/deno/deno'), ['eval', '--ext=ts', script]]
      const r = spawnSync(cmd[0] as string, cmd[1] as string[], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
      const line = r.stdout.trim().split('\n').at(-1) ?? ''
      expect(line, r.stderr).toStartWith('{')
      const out = JSON.parse(line) as { restored: boolean; served: number }
      expect(out.restored).toBe(true)
      // Key exchange and authentication are several encrypted packets, each with 4+ bytes of padding.
      expect(out.served).toBeGreaterThanOrEqual(16)
    }, 40_000)
  }
})
