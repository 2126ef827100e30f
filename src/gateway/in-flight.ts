/**
 * Consumer requests being proxied right now. The drain waits for the count to reach zero; each
 * request takes a ticket and gives it back exactly once, whatever path it ends by.
 */
export class InFlight {
  #count = 0
  #idle: (() => void) | undefined

  get count(): number {
    return this.#count
  }

  /** A request begins: returns its `done`, which is safe to call more than once. */
  begin(): () => void {
    this.#count++
    let open = true
    return () => {
      if (!open) return
      open = false
      if (--this.#count === 0) this.#idle?.()
    }
  }

  /** Resolve true once nothing is in flight, false after `ms`. */
  whenIdle(ms: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true)
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#idle = undefined
        resolve(false)
      }, ms)
      this.#idle = () => {
        clearTimeout(timer)
        this.#idle = undefined
        resolve(true)
      }
    })
  }
}
