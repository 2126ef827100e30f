/**
 * A persistent (immutable, structure-sharing) string-keyed map: a hash array mapped trie.
 *
 * Why not copy a native Map on every change: pick()/release() run twice per proxied request,
 * and `new Map(old)` is O(all connections) (≈0.6 ms at 30k connections in Bun). Here set()
 * and delete() copy only the path to one entry (≤ 7 nodes of ≤ 32 slots), so a transition
 * costs O(log32 n) and old states stay valid and untouched.
 */

/** 32-bit hash of a key; injectable so tests can force collisions. */
export type Hash = (key: string) => number

/** FNV-1a over UTF-16 code units: cheap and well spread for short ids. */
export function fnv1a(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

const LEAF = 0
const BRANCH = 1
const COLLISION = 2

interface Leaf<V> {
  readonly t: typeof LEAF
  readonly hash: number
  readonly key: string
  readonly value: V
}
/** Children sit in bitmap order: slot i of the 32 is present when bit i is set. */
interface Branch<V> {
  readonly t: typeof BRANCH
  readonly bitmap: number
  readonly children: readonly Node<V>[]
}
/** Keys whose full 32-bit hashes are equal. */
interface Collision<V> {
  readonly t: typeof COLLISION
  readonly hash: number
  readonly leaves: readonly Leaf<V>[]
}
type Node<V> = Leaf<V> | Branch<V> | Collision<V>

const BITS = 5
const MASK = 31

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}

/** Branch joining two nodes with different hashes; they part at some shift ≤ 30. */
function merge<V>(a: Leaf<V> | Collision<V>, b: Leaf<V>, shift: number): Branch<V> {
  const ia = (a.hash >>> shift) & MASK
  const ib = (b.hash >>> shift) & MASK
  if (ia === ib) return { t: BRANCH, bitmap: 1 << ia, children: [merge(a, b, shift + BITS)] }
  return { t: BRANCH, bitmap: (1 << ia) | (1 << ib), children: ia < ib ? [a, b] : [b, a] }
}

/** Returns `node` itself when nothing changed; `grew.added` tells a new key from a replacement. */
function insert<V>(node: Node<V>, leaf: Leaf<V>, shift: number, grew: { added: boolean }): Node<V> {
  switch (node.t) {
    case LEAF:
      if (node.key === leaf.key) return Object.is(node.value, leaf.value) ? node : leaf
      grew.added = true
      if (node.hash === leaf.hash) return { t: COLLISION, hash: node.hash, leaves: [node, leaf] }
      return merge(node, leaf, shift)
    case COLLISION: {
      if (node.hash !== leaf.hash) {
        grew.added = true
        return merge(node, leaf, shift)
      }
      const i = node.leaves.findIndex((l) => l.key === leaf.key)
      if (i < 0) {
        grew.added = true
        return { t: COLLISION, hash: node.hash, leaves: [...node.leaves, leaf] }
      }
      if (Object.is(node.leaves[i]!.value, leaf.value)) return node
      return { t: COLLISION, hash: node.hash, leaves: node.leaves.with(i, leaf) }
    }
    case BRANCH: {
      const bit = 1 << ((leaf.hash >>> shift) & MASK)
      const i = popcount(node.bitmap & (bit - 1))
      if ((node.bitmap & bit) === 0) {
        grew.added = true
        return { t: BRANCH, bitmap: node.bitmap | bit, children: node.children.toSpliced(i, 0, leaf) }
      }
      const child = node.children[i]!
      const next = insert(child, leaf, shift + BITS, grew)
      return next === child ? node : { t: BRANCH, bitmap: node.bitmap, children: node.children.with(i, next) }
    }
  }
}

/** Returns `node` itself when the key is absent, undefined when the node became empty. */
function remove<V>(node: Node<V>, hash: number, key: string, shift: number): Node<V> | undefined {
  switch (node.t) {
    case LEAF:
      return node.key === key ? undefined : node
    case COLLISION: {
      const i = node.hash === hash ? node.leaves.findIndex((l) => l.key === key) : -1
      if (i < 0) return node
      const leaves = node.leaves.toSpliced(i, 1)
      return leaves.length === 1 ? leaves[0]! : { t: COLLISION, hash: node.hash, leaves }
    }
    case BRANCH: {
      const bit = 1 << ((hash >>> shift) & MASK)
      if ((node.bitmap & bit) === 0) return node
      const i = popcount(node.bitmap & (bit - 1))
      const child = node.children[i]!
      const next = remove(child, hash, key, shift + BITS)
      if (next === child) return node
      const children = next === undefined ? node.children.toSpliced(i, 1) : node.children.with(i, next)
      // A lone leaf or collision needs no branch above it: lift it so lookups stay short.
      if (children.length === 0) return undefined
      if (children.length === 1 && children[0]!.t !== BRANCH) return children[0]
      return { t: BRANCH, bitmap: next === undefined ? node.bitmap & ~bit : node.bitmap, children }
    }
  }
}

/** Plain recursion: several times faster than the generator for whole-map passes. */
function visit<V>(node: Node<V> | undefined, f: (leaf: Leaf<V>) => void): void {
  if (node === undefined) return
  if (node.t === LEAF) f(node)
  else if (node.t === COLLISION) node.leaves.forEach(f)
  else for (const child of node.children) visit(child, f)
}

function* walk<V>(node: Node<V> | undefined): Generator<Leaf<V>, undefined, unknown> {
  if (node === undefined) return
  switch (node.t) {
    case LEAF:
      yield node
      return
    case COLLISION:
      yield* node.leaves
      return
    case BRANCH:
      for (const child of node.children) yield* walk(child)
  }
}

/** Immutable string-keyed map; set()/delete() return a new map (or this one when nothing changes). */
export class PersistentMap<V> implements ReadonlyMap<string, V> {
  readonly size: number
  readonly #root: Node<V> | undefined
  readonly #hash: Hash

  private constructor(root: Node<V> | undefined, size: number, hash: Hash) {
    this.#root = root
    this.size = size
    this.#hash = hash
  }

  /** An empty map: `PersistentMap.empty<Conn>()`. */
  static empty<V>(hash: Hash = fnv1a): PersistentMap<V> {
    return new PersistentMap<V>(undefined, 0, hash)
  }

  /** A map holding `entries` (later duplicates win, as with `new Map`). */
  static from<V>(entries: Iterable<readonly [string, V]>, hash: Hash = fnv1a): PersistentMap<V> {
    let map = PersistentMap.empty<V>(hash)
    for (const [k, v] of entries) map = map.set(k, v)
    return map
  }

  #find(key: string): Leaf<V> | undefined {
    const hash = this.#hash(key)
    let node = this.#root
    let shift = 0
    while (node !== undefined) {
      switch (node.t) {
        case LEAF:
          return node.key === key ? node : undefined
        case COLLISION:
          return node.hash === hash ? node.leaves.find((l) => l.key === key) : undefined
        case BRANCH: {
          const bit = 1 << ((hash >>> shift) & MASK)
          if ((node.bitmap & bit) === 0) return undefined
          node = node.children[popcount(node.bitmap & (bit - 1))]
          shift += BITS
        }
      }
    }
    return undefined
  }

  get(key: string): V | undefined {
    return this.#find(key)?.value
  }

  has(key: string): boolean {
    return this.#find(key) !== undefined
  }

  /** A map with `key` bound to `value`; this same map if it already was. */
  set(key: string, value: V): PersistentMap<V> {
    const leaf: Leaf<V> = { t: LEAF, hash: this.#hash(key), key, value }
    if (this.#root === undefined) return new PersistentMap(leaf, 1, this.#hash)
    const grew = { added: false }
    const root = insert(this.#root, leaf, 0, grew)
    return root === this.#root ? this : new PersistentMap(root, this.size + (grew.added ? 1 : 0), this.#hash)
  }

  /** A map without `key`; this same map if it was absent. */
  delete(key: string): PersistentMap<V> {
    if (this.#root === undefined) return this
    const root = remove(this.#root, this.#hash(key), key, 0)
    return root === this.#root ? this : new PersistentMap(root, this.size - 1, this.#hash)
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    visit(this.#root, (leaf) => callback.call(thisArg, leaf.value, leaf.key, this))
  }

  *entries(): MapIterator<[string, V]> {
    for (const leaf of walk(this.#root)) yield [leaf.key, leaf.value]
  }

  *keys(): MapIterator<string> {
    for (const leaf of walk(this.#root)) yield leaf.key
  }

  *values(): MapIterator<V> {
    for (const leaf of walk(this.#root)) yield leaf.value
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries()
  }
}

/** `map` itself if persistent, else a persistent copy (lets hand-built states with native Maps in). */
export function toPersistent<V>(map: ReadonlyMap<string, V>): PersistentMap<V> {
  return map instanceof PersistentMap ? (map as PersistentMap<V>) : PersistentMap.from(map)
}
