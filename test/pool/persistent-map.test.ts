import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { fnv1a, type Hash, PersistentMap } from '../../src/pool/persistent-map.ts'

type Op = { op: 'set'; key: string; value: number } | { op: 'delete'; key: string }

// Few short keys, so sets overwrite and deletes hit; hashes chosen to exercise every node kind.
const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 4 })
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('set' as const), key, value: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ op: fc.constant('delete' as const), key }),
  ),
  { maxLength: 120 },
)
const hashes: [string, Hash][] = [
  ['FNV-1a', fnv1a],
  ['every key colliding', () => 0],
  ['hashes sharing long prefixes', (k) => (k.length << 28) | (k.length > 1 ? 1 << 31 : 0)],
  ['hashes differing only in the top bits', (k) => (fnv1a(k) & 0xc0000000) >>> 0],
  ['FNV-1a with bit 31 forced', (k) => (fnv1a(k) | 0x80000000) >>> 0],
]

function sorted(entries: Iterable<[string, number]>): [string, number][] {
  return [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

describe('PersistentMap', () => {
  for (const [name, hash] of hashes) {
    test(`behaves like a Map under random set/delete, with ${name}`, () => {
      fc.assert(
        fc.property(ops, (script) => {
          let map = PersistentMap.empty<number>(hash)
          const model = new Map<string, number>()
          const history: [PersistentMap<number>, [string, number][]][] = []
          for (const step of script) {
            const before = map
            if (step.op === 'set') {
              const same = model.get(step.key) === step.value
              map = map.set(step.key, step.value)
              model.set(step.key, step.value)
              if (same) expect(map).toBe(before)
            } else {
              const absent = !model.has(step.key)
              map = map.delete(step.key)
              model.delete(step.key)
              if (absent) expect(map).toBe(before)
            }
            expect(map.size).toBe(model.size)
            expect(sorted(map)).toEqual(sorted(model))
            for (const k of ['', 'a', 'ab', 'dddd', step.key]) {
              expect(map.get(k)).toBe(model.get(k))
              expect(map.has(k)).toBe(model.has(k))
            }
            history.push([map, sorted(model)])
          }
          // Older versions are untouched by later changes.
          for (const [old, entries] of history) expect(sorted(old)).toEqual(entries)
        }),
        { numRuns: 1000 },
      )
    })
  }

  test('iterates keys, values, entries and forEach consistently', () => {
    const map = PersistentMap.from<number>([['x', 1], ['y', 2], ['z', 3], ['x', 4]])
    const seen: [string, number][] = []
    map.forEach((v, k, m) => {
      expect(m).toBe(map)
      seen.push([k, v])
    })
    expect(sorted(seen)).toEqual([['x', 4], ['y', 2], ['z', 3]])
    expect([...map.keys()]).toEqual([...map.entries()].map(([k]) => k))
    expect([...map.values()]).toEqual([...map.entries()].map(([, v]) => v))
    expect(new Map(map)).toEqual(new Map([['x', 4], ['y', 2], ['z', 3]]))
  })
})
