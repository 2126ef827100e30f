import type { Limits, PoolState, PoolStats, UserStats } from './types.ts'

/** Counts for /admin/stats and metrics: `poolStats(pool, limits).users[0]?.capacity`. */
export function poolStats(state: PoolState, limits: Limits): PoolStats {
  let connections = 0
  let busy = 0
  const users: UserStats[] = []
  state.byUser.forEach((ids, user) => {
    let userBusy = 0
    let ready = 0
    for (const id of ids) {
      const c = state.conns.get(id)
      if (c === undefined) continue
      userBusy += c.busy
      if (c.state === 'ready') ready++
    }
    connections += ids.length
    busy += userBusy
    users.push({ user, connections: ids.length, busy: userBusy, capacity: ready * limits.sshMaxChannels })
  })
  users.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))
  return { connections, busy, users }
}
