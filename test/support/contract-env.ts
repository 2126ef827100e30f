/**
 * The processes of the consumer-contract tests: the edge origin (test/fixtures/edge-origin.ts, on
 * Node, shared by every runtime), and per runtime one gateway with one Bun agent per tunnel, each
 * agent forwarding to the edge origin with its own flags (`--public`, `--host-header …`).
 */
import { startEdgeOrigin, type EdgeOrigin } from './differential-env.ts'
import { startAgent, startGateway, type GatewayProc, type RuntimeName } from './processes.ts'
import { tokenFor } from './tokens.ts'

export { startEdgeOrigin, type EdgeOrigin }

/** The gateway runtimes every contract test runs on. */
export const RUNTIMES: readonly RuntimeName[] = ['bun', 'deno', 'node']

/** A tunnel to open: its user (= tunnel name) and the agent's extra flags. */
export interface TunnelSpec {
  readonly user: string
  readonly extra?: readonly string[]
}

export interface ContractEnv {
  readonly runtime: RuntimeName
  readonly gw: GatewayProc
  readonly port: number
  /** `127.0.0.1:<port>`: the Host of path-routed requests. */
  readonly host: string
  /** A valid token (1 h) per user of `tunnels`, plus `bob`, `nobody` and `carol` (no agents). */
  readonly tokens: Readonly<Record<string, string>>
}

/**
 * A gateway on `runtime` with `env` (on top of startGateway()'s test defaults) and one Bun agent
 * per tunnel, all connected to `edge` and up before this resolves.
 */
export async function startContractEnv(runtime: RuntimeName, edge: EdgeOrigin, tunnels: readonly TunnelSpec[], env: Record<string, string> = {}): Promise<ContractEnv> {
  const gw = await startGateway(runtime, env)
  const users = [...new Set([...tunnels.map((t) => t.user), 'bob', 'nobody', 'carol'])]
  const tokens: Record<string, string> = {}
  await Promise.all(users.map(async (u) => (tokens[u] = await tokenFor(u))))
  await Promise.all(tunnels.map((t) => startAgent(gw.url, tokens[t.user]!, edge.url, { extra: [...(t.extra ?? [])] })))
  return { runtime, gw, port: gw.port, host: `127.0.0.1:${gw.port}`, tokens }
}
