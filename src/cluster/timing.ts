/**
 * How fast the directory follows the cluster. An instance refreshes its entries every
 * `REFRESH_MS`; they expire `ENTRY_TTL_MS` after the last refresh, so a dead instance (SIGKILL, a
 * lost host) stops being found within 4 s, and a live one survives three missed refreshes (a GC
 * pause, a Redis failover of a second or two). A forwarder keeps what it looked up for
 * `LOOKUP_CACHE_MS`: one Redis round trip per tunnel per half second at most, however busy.
 */
export const REFRESH_MS = 1000
export const ENTRY_TTL_MS = 4000
export const LOOKUP_CACHE_MS = 500
/** A holder that could not be reached is skipped this long (its entry expires within this anyway). */
export const UNREACHABLE_MS = ENTRY_TTL_MS
