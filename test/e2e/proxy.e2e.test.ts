/**
 * Agents in a proxy-only network: the gateway's name (`gateway.internal`) resolves only inside an
 * HTTP CONNECT proxy written here, so the agent and ws-stdio reach it through the proxy or not at
 * all: from HTTP_PROXY (with credentials), from --proxy, and never when NO_PROXY names it.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { runtimeCommand, startAgent, startGateway, startOrigin, startProcess, stopAll, type RuntimeName } from '../support/processes.ts'
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.ts'
import { tokenFor } from '../support/tokens.ts'

const proxies: ConnectProxy[] = []
afterAll(async () => {
  await stopAll()
  await Promise.all(proxies.map((p) => p.close()))
})

const env = (proxy: ConnectProxy, creds = 'agent:s3cret') => ({ HTTP_PROXY: proxy.url.replace('http://', `http://${creds}@`), LOG_LEVEL: 'info' })

async function get(url: string, token: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  return `${res.status} ${await res.text()}`
}

describe('an agent behind an HTTP CONNECT proxy (gateway on Bun)', () => {
  for (const runtime of ['bun', 'deno', 'node'] as RuntimeName[]) {
    test(`on ${runtime}: HTTP_PROXY with credentials carries the tunnel to a name only the proxy knows`, async () => {
      const [origin, gw, proxy] = await Promise.all([startOrigin(), startGateway('bun'), startConnectProxy({ user: 'agent', password: 's3cret' })])
      proxies.push(proxy)
      const user = `px-${runtime}`
      const token = await tokenFor(user)
      await startAgent(`http://gateway.internal:${gw.port}`, token, origin.url, { runtime, env: env(proxy) })
      expect(proxy.tunnels).toContain(`gateway.internal:${gw.port}`)
      expect(proxy.refused).toEqual([])
      expect(await get(`${gw.url}/t/${user}/hello`, token)).toBe('200 hello from origin ')
    }, 60_000)
  }

  test('--proxy works without the environment; wrong credentials are a 407 the agent reports and retries', async () => {
    const [origin, gw, proxy] = await Promise.all([startOrigin(), startGateway('bun'), startConnectProxy({ user: 'agent', password: 's3cret' })])
    proxies.push(proxy)
    const token = await tokenFor('px-flag')
    const wrong = await startAgent(`http://gateway.internal:${gw.port}`, token, origin.url, { wait: false, extra: ['--proxy', proxy.url.replace('http://', 'http://agent:nope@')] })
    await wrong.proc.waitFor(/407/, 20_000)
    wrong.proc.kill()
    await startAgent(`http://gateway.internal:${gw.port}`, token, origin.url, { extra: ['--proxy', proxy.url.replace('http://', 'http://agent:s3cret@')] })
    expect(await get(`${gw.url}/t/px-flag/hello`, token)).toBe('200 hello from origin ')
  }, 60_000)

  test('NO_PROXY naming the gateway dials directly (and so cannot resolve gateway.internal)', async () => {
    const [origin, gw, proxy] = await Promise.all([startOrigin(), startGateway('bun'), startConnectProxy()])
    proxies.push(proxy)
    const token = await tokenFor('px-bypass')
    const agent = await startAgent(`http://gateway.internal:${gw.port}`, token, origin.url, { wait: false, env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,.internal' } })
    await agent.proc.waitFor(/cannot reach the gateway/, 20_000)
    expect(proxy.tunnels).toEqual([])
  }, 60_000)

  test('ws-stdio reaches the gateway through HTTPS_PROXY/HTTP_PROXY too: the SSH ident comes back', async () => {
    const [gw, proxy] = await Promise.all([startGateway('bun'), startConnectProxy({ user: 'agent', password: 's3cret' })])
    proxies.push(proxy)
    const token = await tokenFor('px-stdio')
    const [cmd, args] = runtimeCommand('bun', 'src/cli.ts', ['ws-stdio', `http://gateway.internal:${gw.port}`])
    const bridge = startProcess(cmd, args, { BURROW_TOKEN: token, ...env(proxy) })
    await bridge.waitFor(/SSH-2\.0-/, 20_000)
    expect(proxy.tunnels).toEqual([`gateway.internal:${gw.port}`])
    bridge.kill()
  }, 60_000)
})
