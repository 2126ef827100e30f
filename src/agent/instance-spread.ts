/**
 * Which gateway URL each connection of an agent dials (`burrow connect --server URL1,URL2,…`):
 * connections go to different instances where they can, so losing one instance leaves the tunnel
 * up on the others, and a lost connection reconnects to another instance. The instance a URL
 * reached is what the gateway named in `Burrow-Instance` on the upgrade answer (two URLs may reach
 * the same instance, e.g. a name and its address); without it, a URL stands for its own instance.
 *
 * Preference for a slot's next dial, lowest first: a URL that is neither in use by another
 * connection nor failed lately; one in use (doubling up on a live instance beats dialing a dead
 * one); one that failed or was lost within `FAILED_FOR_MS`; among equals, the rotation starting
 * at the slot's index (slot 0 → URL 0, slot 1 → URL 1, …). Pure bookkeeping: time is injected.
 */
export const FAILED_FOR_MS = 30_000

export class InstanceSpread {
  readonly urls: readonly string[]
  readonly #now: () => number
  readonly #slotUrl = new Map<number, string>()
  readonly #slotInstance = new Map<number, string>()
  readonly #urlInstance = new Map<string, string>()
  readonly #failedAt = new Map<string, number>()

  /** `urls`: the WebSocket URLs of the gateways' /tunnel routes, at least one. */
  constructor(urls: readonly string[], now: () => number = Date.now) {
    if (urls.length === 0) throw new Error('InstanceSpread needs at least one URL')
    this.urls = urls
    this.#now = now
  }

  /** The URL `slot` dials next; it counts as in use by `slot` until `ended`. */
  pick(slot: number): string {
    this.#slotUrl.delete(slot)
    this.#slotInstance.delete(slot)
    if (this.urls.length === 1) return this.#use(slot, this.urls[0]!)
    const usedUrls = new Set(this.#slotUrl.values())
    const usedInstances = new Set(this.#slotInstance.values())
    const now = this.#now()
    let best: string | undefined
    let bestScore = Infinity
    for (let i = 0; i < this.urls.length; i++) {
      const url = this.urls[(slot + i) % this.urls.length]!
      const instance = this.#urlInstance.get(url)
      const inUse = usedUrls.has(url) || (instance !== undefined && usedInstances.has(instance))
      const failed = now - (this.#failedAt.get(url) ?? -Infinity) < FAILED_FOR_MS
      const score = (failed ? 2 : 0) + (inUse ? 1 : 0)
      if (score < bestScore) {
        best = url
        bestScore = score
      }
    }
    return this.#use(slot, best!)
  }

  /** `slot`'s connection through `url` reached instance `instance` (Burrow-Instance), or an unnamed one. */
  reached(slot: number, url: string, instance: string | undefined): void {
    this.#failedAt.delete(url)
    if (instance === undefined) return
    this.#urlInstance.set(url, instance)
    this.#slotInstance.set(slot, instance)
  }

  /**
   * `slot`'s connection through `url` ended: it failed to come up, or it was lost. Either way the
   * URL is avoided for a while (an instance that went away often takes its URL with it), unless
   * the gateway asked the agent to go elsewhere on purpose and it is the only choice.
   */
  ended(slot: number, url: string): void {
    this.#slotUrl.delete(slot)
    this.#slotInstance.delete(slot)
    this.#failedAt.set(url, this.#now())
  }

  /** Where each connection is now: slot → instance (or URL when unnamed), for the status line. */
  placement(): ReadonlyMap<number, string> {
    const out = new Map<number, string>()
    for (const [slot, url] of this.#slotUrl) out.set(slot, this.#slotInstance.get(slot) ?? url)
    return out
  }

  #use(slot: number, url: string): string {
    this.#slotUrl.set(slot, url)
    return url
  }
}
