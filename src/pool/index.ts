/**
 * The pool's functional core: an immutable state value and pure transitions over it.
 * No clock, timer or socket here: the shell (src/gateway/) passes `now` and acts on results.
 */
export type {
  AdmitResult,
  Closed,
  CloseReason,
  Conn,
  ConnId,
  ConnState,
  Limits,
  PickResult,
  PoolError,
  PoolState,
  PoolStats,
  SweepResult,
  UserId,
  UserStats,
} from './types.ts'
export { admit, type Newcomer } from './admit.ts'
export { drainAll, markDraining } from './drain.ts'
export { pick } from './pick.ts'
export { release } from './release.ts'
export { remove } from './remove.ts'
export { connectionsOf, emptyPool } from './state.ts'
export { poolStats } from './stats.ts'
export { sweep } from './sweep.ts'
export { touch } from './touch.ts'
