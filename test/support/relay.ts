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

/** How the relay shapes traffic: `agentUplinkBytesPerSecond` throttles agent → gateway (a slow uplink). */
export interface RelayOptions {
  readonly agentUplinkBytesPerSecond?: number
}

// A throttled direction sends in ticks of this many ms, and stops reading the agent while more than
// this many bytes wait: its TCP send buffer then fills, as behind a real slow uplink.
const TICK_MS = 20
const QUEUE_HIGH = 32 * 1024

/** Relay 127.0.0.1:<ephemeral> to 127.0.0.1:`targetPort`. */
export async function startRelay(targetPort: number, options: RelayOptions = {}): Promise<Relay> {
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
    const rate = options.agentUplinkBytesPerSecond
    if (rate === undefined) agent.on('data', (d) => state.forwarding && gateway.write(d))
    else {
      let queue: Buffer[] = []
      let queued = 0
      const tick = setInterval(() => {
        let budget = Math.ceil((rate * TICK_MS) / 1000)
        while (budget > 0 && queue.length > 0) {
          const head = queue[0]!
          const part = head.subarray(0, budget)
          if (state.forwarding && !gateway.destroyed) gateway.write(part)
          budget -= part.length
          queued -= part.length
          if (part.length === head.length) queue.shift()
          else queue[0] = head.subarray(part.length)
        }
        if (queued < QUEUE_HIGH && agent.isPaused()) agent.resume()
      }, TICK_MS)
      agent.on('data', (d) => {
        queue.push(d)
        queued += d.length
        if (queued >= QUEUE_HIGH) agent.pause()
      })
      agent.on('close', () => clearInterval(tick))
      gateway.on('close', () => (clearInterval(tick), (queue = [])))
    }
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
