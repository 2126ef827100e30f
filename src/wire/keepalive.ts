/**
 * Keep-alives either end may miss before it counts the other as gone: after this many silent
 * intervals (`SSH_KEEPALIVE_INTERVAL` each) a connection is stale. Both ends use the same number,
 * so neither holds on to a connection the other has given up (OpenSSH's ServerAliveCountMax is 3 too).
 */
export const MISSED_KEEPALIVES = 3
