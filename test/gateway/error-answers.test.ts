import { describe, expect, test } from 'bun:test'
import { createGatewayShell } from '../../src/gateway/create-gateway.ts'
import { silentLogger } from '../../src/log/logger.ts'
import { createRuntimeAdapter } from '../../src/runtime/index.ts'
import { tempDir, TEST_ADMIN_TOKEN, TEST_SECRET } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

const base = { dataDir: tempDir(), secret: TEST_SECRET, adminToken: TEST_ADMIN_TOKEN, logger: silentLogger }
const bodyOf = async (r: Response) => [r.status, ((await r.json()) as { error: { code: string } }).error.code]

describe('the error vocabulary at the edges of the app', () => {
  test('a route that does not exist: 404 not_found', async () => {
    const gw = createGatewayShell({ ...base, runtime: (app) => createRuntimeAdapter('bun', { rootApp: () => app, maxFrameBytes: 1024 }) })
    expect(await bodyOf(await gw.app.request('/nowhere'))).toEqual([404, 'not_found'])
  })

  test('a failure inside the gateway: 500 internal, and nothing of the error is shown', async () => {
    // The gateway is given its runtime adapter: here one whose client-address lookup fails.
    const gw = createGatewayShell({
      ...base,
      runtime: (app) => ({
        ...createRuntimeAdapter('bun', { rootApp: () => app, maxFrameBytes: 1024 }),
        clientAddress: () => {
          throw new Error('secret detail')
        },
      }),
    })
    const res = await gw.app.request('/t/alice/x', { headers: { authorization: `Bearer ${await tokenFor('alice')}` } })
    const body = await res.text()
    expect(res.status).toBe(500)
    expect(JSON.parse(body).error.code).toBe('internal')
    expect(body).not.toContain('secret detail')
  })
})
