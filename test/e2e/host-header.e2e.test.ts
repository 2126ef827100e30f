/**
 * The Host a local service receives (README "Agent", src/gateway/upstream-host.ts), end to end on
 * a gateway on Bun, Deno and Node: `burrow connect --host-header rewrite` (default), `preserve`
 * and a fixed value, a bad value (usage error), and stock OpenSSH agents, whose Host comes from
 * the forward they asked for. The service is the edge origin's `/echo-head`, which answers with
 * the header fields it received.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { exitCodeOf, ssh, sshKeygen } from '../openssh/support.ts'
import { ask, echoed, type Echoed } from '../support/consumer.ts'
import { RUNTIMES, startContractEnv, startEdgeOrigin, type ContractEnv, type EdgeOrigin } from '../support/contract-env.ts'
import { runtimeCommand, startProcess, stopAll, tempDir, type Proc } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

let edge: Promise<EdgeOrigin>
beforeAll(() => {
  edge = startEdgeOrigin()
})
afterAll(stopAll)

/** `burrow keys add USER KEYFILE` on the gateway's data dir, as an operator would. */
async function keysAdd(dataDir: string, user: string, pubFile: string): Promise<void> {
  const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['keys', 'add', user, pubFile])
  const proc = startProcess(cmd, args, { BURROW_DATA_DIR: dataDir })
  expect(await proc.exited()).toBe(0)
}

describe('--host-header with a bad value', () => {
  for (const runtime of RUNTIMES) {
    test(`the agent on ${runtime} exits 2 with a usage message`, async () => {
      const [cmd, args] = runtimeCommand(runtime, 'src/cli.ts', [
        'connect',
        '--server',
        'http://127.0.0.1:9',
        '--token',
        await tokenFor('alice'),
        '--to',
        'http://127.0.0.1:3000',
        '--host-header',
        'bad value/x',
      ])
      const proc = startProcess(cmd, args)
      expect(await exitCodeOf(proc)).toBe(2)
      expect(proc.output()).toContain('--host-header bad value/x')
      expect(proc.output()).toMatch(/expected rewrite, preserve or HOST\[:PORT\]/)
    })
  }
})

for (const runtime of RUNTIMES) {
  describe(`Host for the local service, gateway on ${runtime}`, () => {
    let env: ContractEnv
    let edgePort: number
    beforeAll(async () => {
      const e = await edge
      edgePort = e.port
      env = await startContractEnv(
        runtime,
        e,
        [
          { user: 'alice' },
          { user: 'keep', extra: ['--host-header', 'preserve'] },
          { user: 'fixed', extra: ['--host-header', 'example.internal:8080'] },
        ],
        { BURROW_BASE_DOMAIN: 'localhost', SSH_PORT: '0' },
      )
    })
    /** What `/echo-head` of `tunnel` received, through path routing and through Host routing. */
    const both = async (tunnel: string, token: string): Promise<{ path: Echoed; host: Echoed }> => {
      const auth: [string, string][] = [['Authorization', `Bearer ${token}`]]
      const viaPath = await ask({ port: env.port, host: env.host, target: `/t/${tunnel}/echo-head`, headers: auth })
      const viaHost = await ask({ port: env.port, host: `${tunnel}.localhost:${env.port}`, target: '/echo-head', headers: auth })
      expect([viaPath.status, viaHost.status]).toEqual([200, 200])
      return { path: echoed(viaPath), host: echoed(viaHost) }
    }

    test('default (rewrite): Host is the service’s own 127.0.0.1:<port>, the public host is in X-Forwarded-Host', async () => {
      const seen = await both('alice', env.tokens.alice!)
      expect(seen.path.all('host')).toEqual([`127.0.0.1:${edgePort}`])
      expect(seen.path.all('x-forwarded-host')).toEqual([env.host])
      expect(seen.host.all('host')).toEqual([`127.0.0.1:${edgePort}`])
      expect(seen.host.all('x-forwarded-host')).toEqual([`alice.localhost:${env.port}`])
    })

    test('--host-header preserve: Host is the public host', async () => {
      const seen = await both('keep', env.tokens.keep!)
      expect(seen.path.all('host')).toEqual([env.host])
      expect(seen.host.all('host')).toEqual([`keep.localhost:${env.port}`])
      expect(seen.host.all('x-forwarded-host')).toEqual([`keep.localhost:${env.port}`])
    })

    test('--host-header example.internal:8080: exactly that', async () => {
      const seen = await both('fixed', env.tokens.fixed!)
      expect(seen.path.all('host')).toEqual(['example.internal:8080'])
      expect(seen.host.all('host')).toEqual(['example.internal:8080'])
      expect(seen.host.all('x-forwarded-host')).toEqual([`fixed.localhost:${env.port}`])
    })

    test("a client's own X-Forwarded-Host is not believed: the service gets the public host", async () => {
      const r = await ask({ port: env.port, host: env.host, target: '/t/alice/echo-head', headers: [['Authorization', `Bearer ${env.tokens.alice}`], ['X-Forwarded-Host', 'evil.example']] })
      expect(echoed(r).all('x-forwarded-host')).toEqual([env.host])
    })

    test('a redirect the service builds from the Host it got comes back on the public host, whichever Host that was', async () => {
      const redirect = async (tunnel: string, viaHost: boolean) => {
        const r = await ask({
          port: env.port,
          host: viaHost ? `${tunnel}.localhost:${env.port}` : env.host,
          target: `${viaHost ? '' : `/t/${tunnel}`}/redirect?to=host/landing`,
          headers: [['Authorization', `Bearer ${env.tokens[tunnel]}`]],
        })
        return [r.status, r.header('location')]
      }
      for (const tunnel of ['alice', 'keep', 'fixed']) {
        expect({ tunnel, path: await redirect(tunnel, false), host: await redirect(tunnel, true) }).toEqual({
          tunnel,
          path: [302, `http://${env.host}/t/${tunnel}/landing`],
          host: [302, `http://${tunnel}.localhost:${env.port}/landing`],
        })
      }
    })

    test('stock OpenSSH: -R 80:localhost:<port> gives Host localhost, -R <port>:localhost:<port> gives localhost:<port>', async () => {
      const sshPort = Number((await env.gw.proc.waitFor(/SSH listener: \S+:(\d+)/))[1])
      const keys = tempDir('burrow-ssh-keys-')
      const forwards = [
        ['sshdefault', `80:localhost:${edgePort}`, 'localhost'],
        ['sshport', `${edgePort}:localhost:${edgePort}`, `localhost:${edgePort}`],
      ] as const
      for (const [user, forward, expectedHost] of forwards) {
        const key = sshKeygen(keys, user)
        await keysAdd(env.gw.dataDir, user, `${key}.pub`)
        const tunnel = ssh(['-v', '-N', '-R', forward, '-i', key, '-p', String(sshPort), `${user}@127.0.0.1`])
        await tunnel.waitFor(/remote forward success/, 20_000)
        const seen = echoed(await ask({ port: env.port, host: env.host, target: `/t/${user}/echo-head`, headers: [['Authorization', `Bearer ${await tokenFor(user)}`]] }))
        expect({ forward, host: seen.all('host') }).toEqual({ forward, host: [expectedHost] })
        expect(seen.all('x-forwarded-host')).toEqual([env.host])
        const back = await ask({ port: env.port, host: env.host, target: `/t/${user}/redirect?to=host/landing`, headers: [['Authorization', `Bearer ${await tokenFor(user)}`]] })
        expect({ forward, location: back.header('location') }).toEqual({ forward, location: `http://${env.host}/t/${user}/landing` })
        tunnel.kill()
      }
    })
  })
}
