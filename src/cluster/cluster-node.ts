import type { ClusterDirectory } from './directory.ts'

/** Requests this instance forwarded to holders elsewhere, and their bytes (not counted as its own tunnels' traffic). */
export interface ForwardedTraffic {
  requests: number
  /** Response bytes that came back from holders. */
  bytesIn: number
  /** Request bytes sent to holders. */
  bytesOut: number
}

/** One gateway instance's part in a cluster (REDIS_URL set): the directory, its id, what it forwarded. */
export interface ClusterNode {
  readonly instanceId: string
  readonly directory: ClusterDirectory
  readonly forwarded: ForwardedTraffic
}
