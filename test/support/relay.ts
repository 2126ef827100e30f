/**
 * A loopback TCP relay between agent and gateway, run inside the test process, that can fail the
 * way real networks do: `blackhole()` stops forwarding on the open pairs while keeping both sockets
 * open (a dead NAT entry, a pulled cable), `cutAgentSide()` resets the agent's half only (a blip
 * that the agent notices first). New connections keep being relayed normally, so an agent that
 * reconnects gets through.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

/** One relayed connection: an agent-side socket and its gateway-side twin. */
export interface RelayPair {
  readonly id: number
  /** ms timestamps of each side closing (set when its socket closed), for the report's figures. */
  agentClosedAt: number | undefined
  gatewayClosedAt: number | undefined
  /** Resolve when that side's socket has closed. */
  readonly agentClosed: Promise<void>
  readonly gatewayClosed: Promise<void>
}

export interface Relay {
  readonly port: number
  readonly url: string
  /** Every pair accepted so far, in order. */
  readonly pairs: RelayPair[]
  /** Pairs whose sockets are both still open. */
  open(): RelayPair[]
  /** Stop forwarding on every open pair; keep reading and dropping, never close. Returns those pairs. */
  blackhole(): RelayPair[]
  /** Reset the agent-side socket of every open pair; the gateway side stays open and silent. */
  cutAgentSide(): RelayPair[]
  close(): Promise<void>
}

/** Relay 127.0.0.1:<ephemeral> to 127.0.0.1:`targetPort`. */
export async function startRelay(targetPort: number): Promise<Relay> {
  const pairs: RelayPair[] = []
  const live = new Map<RelayPair, { agent: Socket; gateway: Socket; forwarding: boolean }>()
  const server: Server = createServer((agent) => {
    const gateway = connect(targetPort, '127.0.0.1')
    agent.setNoDelay(true)
    gateway.setNoDelay(true)
    let onAgentClosed!: () => void
    let onGatewayClosed!: () => void
    const pair: RelayPair = {
      id: pairs.length,
      agentClosedAt: undefined,
      gatewayClosedAt: undefined,
      agentClosed: new Promise<void>((r) => (onAgentClosed = r)),
      gatewayClosed: new Promise<void>((r) => (onGatewayClosed = r)),
    }
    const state = { agent, gateway, forwarding: true }
    pairs.push(pair)
    live.set(pair, state)
    // Forward by hand (not pipe) so that black-holing is just a flag: bytes are read and dropped,
    // the kernel keeps ACKing, and neither peer sees an error or an end.
    agent.on('data', (d) => state.forwarding && gateway.write(d))
    gateway.on('data', (d) => state.forwarding && agent.write(d))
    // A black-holed pair passes nothing on, not even an end: the other side must find out itself.
    agent.on('end', () => state.forwarding && gateway.end())
    gateway.on('end', () => state.forwarding && agent.end())
    agent.on('error', () => {})
    gateway.on('error', () => {})
    agent.on('close', () => {
      pair.agentClosedAt = Date.now()
      onAgentClosed()
      if (state.forwarding) gateway.destroy()
      if (gateway.destroyed) live.delete(pair)
    })
    gateway.on('close', () => {
      pair.gatewayClosedAt = Date.now()
      onGatewayClosed()
      if (state.forwarding) agent.destroy()
      if (agent.destroyed) live.delete(pair)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const openPairs = () => [...live.entries()].filter(([, s]) => !s.agent.destroyed && !s.gateway.destroyed).map(([p]) => p)
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pairs,
    open: openPairs,
    blackhole() {
      const affected = openPairs()
      for (const p of affected) live.get(p)!.forwarding = false
      return affected
    },
    cutAgentSide() {
      const affected = openPairs()
      for (const p of affected) {
        const s = live.get(p)!
        s.forwarding = false
        s.agent.resetAndDestroy()
      }
      return affected
    },
    async close() {
      for (const s of live.values()) {
        s.agent.destroy()
        s.gateway.destroy()
      }
      live.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
