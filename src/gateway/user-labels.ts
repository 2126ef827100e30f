import type { TrafficCounts } from './traffic.ts'

/** The `user` label shared by users without their own per-user series. */
export const OTHER_USERS = '_other'

/**
 * The `user` label of each user for one scrape: the `top` users with the most requests keep their
 * name, every other user is `_other` (so a gateway with 50,000 users exports at most `top` + 1
 * series per metric). `top` Infinity names everyone (METRICS_PER_USER=1). Ties go to the name that
 * sorts first, so the set is stable between scrapes.
 */
export function userLabels(users: Iterable<[string, TrafficCounts]>, top: number): (user: string) => string {
  if (top === Infinity) return (user) => user
  const ranked = [...users].sort(([a, x], [b, y]) => y.requests - x.requests || (a < b ? -1 : a > b ? 1 : 0))
  const named = new Set(ranked.slice(0, top).map(([user]) => user))
  return (user) => (named.has(user) ? user : OTHER_USERS)
}
