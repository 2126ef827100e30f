/**
 * The processes of the differential tests: the two origins (httpbin, shared by all runtimes, and
 * the edge origin), and per runtime one gateway with one Bun agent per origin.
 */
import type { DiffEnv } from './differential-run.ts'
import { runtimeCommand, startAgent, startGateway, startProcess, type Proc, type RuntimeName } from './processes.ts'
import { startHttpbin, type Httpbin } from './httpbin.ts'
import { tokenFor } from './tokens.ts'

/** The gateway waits this long for a response head (504 after): the hang tests wait for it. */
export const HEAD_TIMEOUT_MS = 4_000

/** The edge origin process and where it listens (127.0.0.1). */
export interface EdgeOrigin {
  readonly proc: Proc
  readonly port: number
  readonly url: string
}

/** Start `test/fixtures/edge-origin.ts` on Node (see its header for why Node). */
export async function startEdgeOrigin(): Promise<EdgeOrigin> {
  const [cmd, args] = runtimeCommand('node', 'test/fixtures/edge-origin.ts', ['0'])
  const proc = startProcess(cmd, args)
  const m = await proc.waitFor(/listening (\d+)/)
  const port = Number(m[1])
  return { proc, port, url: `http://127.0.0.1:${port}` }
}

/** The two origins every runtime's gateway tunnels to. */
export interface Origins {
  readonly httpbin: Httpbin
  readonly edge: EdgeOrigin
}

/** Start httpbin and the edge origin side by side; rejects (with what to install) if httpbin cannot run. */
export async function startOrigins(): Promise<Origins> {
  const [httpbin, edge] = await Promise.all([startHttpbin(), startEdgeOrigin()])
  return { httpbin, edge }
}

/** A started `DiffEnv`; `stop()` kills its gateway and agents (the origins stay for the next runtime). */
export interface RunningDiffEnv extends DiffEnv {
  /** The gateway process (its output explains a gateway that went away). */
  readonly gateway: Proc
  stop(): void
}

/**
 * A gateway on `runtime` (path routing, and host routing under `*.localhost`), with users
 * `httpbin` and `edge` each running one Bun agent (2 connections) to their origin.
 */
export async function startDiffEnv(runtime: RuntimeName, origins: Origins): Promise<RunningDiffEnv> {
  const gw = await startGateway(runtime, {
    BURROW_BASE_DOMAIN: 'localhost',
    UPSTREAM_HEAD_TIMEOUT: String(HEAD_TIMEOUT_MS),
  })
  const [httpbinToken, edgeToken] = await Promise.all([tokenFor('httpbin'), tokenFor('edge')])
  const agents = await Promise.all([
    startAgent(gw.url, httpbinToken, origins.httpbin.url, { connections: 2 }),
    startAgent(gw.url, edgeToken, origins.edge.url, { connections: 2 }),
  ])
  return {
    runtime,
    gateway: gw.proc,
    gatewayPort: gw.port,
    targets: {
      httpbin: { port: origins.httpbin.port, tunnel: 'httpbin', token: httpbinToken },
      edge: { port: origins.edge.port, tunnel: 'edge', token: edgeToken },
    },
    stop() {
      for (const a of agents) a.proc.kill('SIGKILL')
      gw.proc.kill('SIGKILL')
    },
  }
}
