import type { ForwardSpec } from '../transport/ssh-server.ts'

// Bind addresses that mean "any interface" (OpenSSH sends '' for `-R :80:…` and `*`).
const WILDCARD = new Set(['', '*', '0.0.0.0', '::', 'localhost'])

/**
 * The Host a local service gets through `conn`: the agent's choice (`burrow connect --host-header`:
 * its target's own `host:port` by default, a fixed value, or `preserve` for the consumer's), else,
 * for stock OpenSSH, which cannot say, the forward it asked for: `-R 80:localhost:3000` gives
 * `localhost`, `-R 11434:localhost:11434` gives `localhost:11434`. Services that refuse foreign
 * Host values (Ollama's 403, Vite's allowedHosts) accept these. `undefined`: keep the consumer's.
 */
export function upstreamHost(agentChoice: string | undefined, forward: ForwardSpec | undefined, consumerHost: string | undefined): string | undefined {
  if (agentChoice === 'preserve') return consumerHost
  if (agentChoice !== undefined) return agentChoice
  if (forward === undefined) return consumerHost
  const host = WILDCARD.has(forward.bindAddr) ? 'localhost' : forward.bindAddr.includes(':') ? `[${forward.bindAddr}]` : forward.bindAddr
  return forward.bindPort === 80 ? host : `${host}:${forward.bindPort}`
}
