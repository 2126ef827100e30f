/** One consumer request waiting for a free channel of its user's tunnel. */
interface Waiter<T> {
  readonly resolve: (value: T | undefined) => void
  readonly timer: ReturnType<typeof setTimeout>
}

/**
 * The saturation queue: FIFO per user, bounded per user, each waiter with a deadline. Users do not
 * share a queue, so one busy tenant never delays another (fair across users by construction).
 */
export class WaitQueue<T> {
  readonly #queues = new Map<string, Waiter<T>[]>()
  readonly #maxWaiting: number
  readonly #timeout: number

  constructor(maxWaiting: number, timeout: number) {
    this.#maxWaiting = maxWaiting
    this.#timeout = timeout
  }

  /** Wait for a hand-off; resolves undefined on timeout or abort. Returns 'full' when over the bound. */
  wait(user: string, signal?: AbortSignal): Promise<T | undefined> | 'full' {
    const queue = this.#queues.get(user) ?? []
    if (queue.length >= this.#maxWaiting) return 'full'
    // A consumer that left already has nothing to wait for ('abort' will not fire again).
    if (signal?.aborted === true) return Promise.resolve(undefined)
    this.#queues.set(user, queue)
    return new Promise<T | undefined>((resolve) => {
      const leave = () => {
        clearTimeout(waiter.timer)
        signal?.removeEventListener('abort', leave)
        const q = this.#queues.get(user)
        const at = q?.indexOf(waiter) ?? -1
        if (q !== undefined && at >= 0) {
          q.splice(at, 1)
          if (q.length === 0) this.#queues.delete(user)
        }
        resolve(undefined)
      }
      const waiter: Waiter<T> = {
        resolve: (v) => {
          signal?.removeEventListener('abort', leave)
          resolve(v)
        },
        timer: setTimeout(leave, this.#timeout),
      }
      signal?.addEventListener('abort', leave, { once: true })
      queue.push(waiter)
    })
  }

  /** Whether anyone of `user` is waiting. */
  has(user: string): boolean {
    return (this.#queues.get(user)?.length ?? 0) > 0
  }

  /** Hand `value` to the oldest waiter of `user`; false when nobody waits. */
  handOff(user: string, value: T): boolean {
    const queue = this.#queues.get(user)
    const waiter = queue?.shift()
    if (waiter === undefined) return false
    if (queue!.length === 0) this.#queues.delete(user)
    clearTimeout(waiter.timer)
    waiter.resolve(value)
    return true
  }

  /** Release every waiter of `user` (or of everyone) empty-handed, e.g. the tunnel went away. */
  flush(user?: string): void {
    const users = user === undefined ? [...this.#queues.keys()] : [user]
    for (const u of users) {
      const queue = this.#queues.get(u) ?? []
      this.#queues.delete(u)
      for (const w of queue) {
        clearTimeout(w.timer)
        w.resolve(undefined)
      }
    }
  }

  /** How many wait, per user. */
  sizes(): Map<string, number> {
    return new Map([...this.#queues].map(([u, q]) => [u, q.length]))
  }
}
