/**
 * A small, seeded byte mutator: the same seed always gives the same cases, so a failure found by
 * `bun run fuzz` is replayed with `--seed`. Mutations are the classic ones (bit flips, random
 * bytes, insertions, deletions, duplications, splices, truncation), plus dictionary words that
 * matter to HTTP and SSH parsers (CRLF, colons, lengths, chunked, dot segments).
 */

/** mulberry32: tiny, fast, good enough to pick mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Rng {
  readonly next: () => number
  int(maxExclusive: number): number
  pick<T>(items: readonly T[]): T
  chance(p: number): boolean
}

export function rng(seed: number): Rng {
  const next = prng(seed)
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  }
}

/** Words a parser cares about; inserted or overwritten at random places. */
export const HTTP_WORDS = [
  '\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', ':', ': ', '\0', '%', '%00', '%0d%0a', '%2e%2e', '/../', '/./', '//', '\\', '?', '#', '@', ',',
  'chunked', 'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip, chunked\r\n', 'Content-Length: ', 'Content-Length: 0\r\n',
  'Content-Length: 5\r\n', '0\r\n\r\n', '4294967296', '18446744073709551617', '-1', '+1', '0x10', 'ffffffff', 'Host: ', 'Host: bob.burrow.test\r\n',
  'bob', 'alice', 'BOB', 'Upgrade: websocket\r\n', 'Connection: Upgrade\r\n', 'Connection: close\r\n', 'Expect: 100-continue\r\n',
  'HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0', 'HTTP/0.9', 'CONNECT', 'OPTIONS *', 'GET http://bob.burrow.test/', '\u00ff', '\u0080', '\x7f',
  'Authorization: Bearer ', 'Sec-WebSocket-Version: 12\r\n', 'X-Forwarded-For: 10.0.0.1\r\n', ' \r\n folded\r\n',
]

export const SSH_WORDS = [
  'SSH-2.0-', 'SSH-1.99-x\r\n', 'SSH-2.0-x\r\n', '\r\n', '\n', '\0',
  '\x00\x00\x00\x00', '\xff\xff\xff\xff', '\x7f\xff\xff\xff', '\x00\x00\x80\x00', '\x00\x00\x00\x0c',
  'curve25519-sha256', 'ssh-ed25519', 'aes128-gcm@openssh.com', 'none', ',', 'ssh-userauth', 'ssh-connection', 'tcpip-forward',
]

export interface MutateOptions {
  readonly words: readonly string[]
  /** Largest result, so that a run of insertions cannot grow a case without bound. */
  readonly maxBytes: number
}

/** Apply 1-8 random mutations to a copy of `input`. */
export function mutate(input: Buffer, r: Rng, opts: MutateOptions, others: readonly Buffer[] = []): Buffer {
  let b = Buffer.from(input)
  const rounds = 1 + r.int(8)
  for (let i = 0; i < rounds; i++) {
    const at = b.length === 0 ? 0 : r.int(b.length)
    switch (r.int(11)) {
      case 0: // flip a bit
        if (b.length > 0) b[at]! ^= 1 << r.int(8)
        break
      case 1: // a random byte
        if (b.length > 0) b[at] = r.int(256)
        break
      case 2: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + r.int(16) }, () => r.int(256))), b.subarray(at)])
        break
      case 3: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.int(32)))])
        break
      case 4: // duplicate a range (a header line twice, a packet twice)
        {
          const end = Math.min(b.length, at + 1 + r.int(64))
          b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)])
        }
        break
      case 5: // insert a dictionary word
      case 6:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(r.pick(opts.words), 'latin1'), b.subarray(at)])
        break
      case 7: // overwrite with a dictionary word
        {
          const w = Buffer.from(r.pick(opts.words), 'latin1')
          b = Buffer.concat([b.subarray(0, at), w, b.subarray(Math.min(b.length, at + w.length))])
        }
        break
      case 8: // truncate
        b = b.subarray(0, at)
        break
      case 9: // splice in part of another seed
        if (others.length > 0) {
          const o = r.pick(others)
          const from = r.int(Math.max(1, o.length))
          b = Buffer.concat([b.subarray(0, at), o.subarray(from, from + 1 + r.int(128)), b.subarray(at)])
        }
        break
      case 10: // repeat something many times (many headers, a long line)
        {
          const end = Math.min(b.length, at + 1 + r.int(24))
          const piece = b.subarray(at, end)
          b = Buffer.concat([b.subarray(0, end), ...Array<Buffer>(1 + r.int(400)).fill(piece), b.subarray(end)])
        }
        break
    }
    if (b.length > opts.maxBytes) b = b.subarray(0, opts.maxBytes)
  }
  return b
}
