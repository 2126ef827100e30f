/**
 * Simulated agents, in their own process so their memory never counts as the gateway's:
 * `bun test/bench/sim-agents.ts <gatewayUrl> <count> [prefix] [maxSeconds] [originPort]` opens
 * `count` WebSocket + SSH sessions, each for its own user (`<prefix>-<i>`, since a user may hold
 * only 3), registers the tunnel (`tcpip-forward`) as an agent does, prints `ready <n> <ms> failed <k>`
 * once all are up, then stays until killed (or `maxSeconds` pass: every bench loop is bounded).
 * Without `originPort` the agents are idle and refuse channels; with it they pipe each channel to
 * 127.0.0.1:<originPort>, as the real agent does.
 */
import { connect } from 'node:net'
import ssh2 from 'ssh2'
import WebSocket from 'ws'
import { splice } from '../../src/agent/splice.ts'
import { SSH_ALGORITHMS } from '../../src/transport/ssh-algorithms.ts'
import { WsDuplex, wsClientFrames } from '../../src/transport/ws-duplex.ts'
import { tokenFor } from '../support/tokens.ts'

const [gatewayUrl, countArg, prefix = 'idle', maxSecondsArg = '600', originPortArg] = process.argv.slice(2)
if (gatewayUrl === undefined || countArg === undefined) {
  console.error('usage: sim-agents.ts <gatewayUrl> <count> [prefix] [maxSeconds] [originPort]')
  process.exit(2)
}
const originPort = originPortArg === undefined ? undefined : Number(originPortArg)
const count = Number(countArg)
// Handshakes in flight at once: enough to be quick, few enough not to trip handshake timeouts.
const PARALLEL = 16

const wsUrl = gatewayUrl.replace(/^http/, 'ws').replace(/\/+$/, '') + '/tunnel'
const keep: unknown[] = []

function dial(user: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}`, 'x-burrow-agent-id': user }, perMessageDeflate: false })
    ws.binaryType = 'nodebuffer'
    const duplex = new WsDuplex(wsClientFrames(ws))
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) duplex.receive(data)
    })
    ws.on('error', (err: Error) => reject(new Error(`${user}: ${err.message}`)))
    ws.on('close', (code: number, reason: Buffer) => {
      duplex.remoteClosed()
      reject(new Error(`${user}: closed ${code} ${reason.toString()}`))
    })
    const client = new ssh2.Client()
    client.on('error', (err: Error) => reject(new Error(`${user}: ssh ${err.message}`)))
    client.on('ready', () => {
      client.forwardIn('localhost', 80, (err) => (err ? reject(new Error(`${user}: tcpip-forward refused`)) : resolve()))
    })
    client.on('tcp connection', (_info, accept, rejectChannel) => {
      // An idle agent serves nothing.
      if (originPort === undefined) return rejectChannel()
      const socket = connect({ host: '127.0.0.1', port: originPort })
      socket.setNoDelay(true)
      socket.once('error', () => rejectChannel())
      socket.once('connect', () => {
        const channel = accept()
        splice(socket, channel)
      })
    })
    ws.on('open', () => {
      client.connect({
        sock: duplex as never,
        username: user,
        algorithms: SSH_ALGORITHMS,
        readyTimeout: 60_000,
        keepaliveInterval: 60_000,
        hostVerifier: () => true,
      })
    })
    keep.push(ws, client)
  })
}

const t0 = performance.now()
let next = 0
let up = 0
let failed = 0
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++
    const user = `${prefix}-${i}`
    try {
      await dial(user, await tokenFor(user))
      up++
      if (up % 100 === 0) console.log(`up ${up}`)
    } catch (err) {
      failed++
      if (failed <= 10) console.log(`failed ${(err as Error).message}`)
    }
  }
}
await Promise.all(Array.from({ length: PARALLEL }, worker))
console.log(`ready ${up} ${Math.round(performance.now() - t0)} failed ${failed}`)
setTimeout(() => process.exit(0), Number(maxSecondsArg) * 1000)
process.on('SIGTERM', () => process.exit(0))
