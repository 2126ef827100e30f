/**
 * The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
 * against a gateway on Bun: sign in with the admin token through the form, see an agent's user
 * and connection appear and the recent requests update as traffic flows, check the session
 * cookie's attributes and the CSRF protection of state-changing calls, and save a screenshot as a
 * test artifact: test-artifacts/dashboard.png (git-ignored). The README's docs/dashboard.png is
 * rewritten only when asked, with UPDATE_SCREENSHOTS=1 (`UPDATE_SCREENSHOTS=1 npx bun test
 * test/browser`), so a clean checkout stays clean after `npm test`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startAgent, startGateway, startOrigin, stopAll, TEST_ADMIN_TOKEN, ROOT, type GatewayProc, type Origin } from '../support/processes.ts'
import { tokenFor } from '../support/tokens.ts'

const SLOW_TEST_MS = 90_000
const CHROMIUM = '/usr/bin/chromium'
// The flags of the brief: no sandbox (CI containers), no GPU, no QUIC, no background traffic.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

describe('dashboard in headless Chromium (gateway on Bun)', () => {
  let gw: GatewayProc
  let origin: Origin
  let browser: BrowserContext
  let page: Page
  let profile: string

  beforeAll(async () => {
    ;[gw, origin] = await Promise.all([startGateway('bun'), startOrigin()])
    profile = mkdtempSync(join(tmpdir(), 'burrow-chromium-'))
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } })
    page = await browser.newPage()
  }, SLOW_TEST_MS)
  afterAll(async () => {
    await browser?.close()
    rmSync(profile, { recursive: true, force: true })
    await stopAll()
  })

  test('a wrong token is refused; the admin token signs in and sets an HttpOnly, SameSite=Strict cookie on /admin', async () => {
    await page.goto(`${gw.url}/admin/ui`)
    await page.fill('input[name=token]', 'not-the-token-at-all')
    await page.click('button[type=submit]')
    await page.waitForSelector('#problem')
    expect(await page.textContent('#problem')).toContain('not the admin token')
    await page.fill('input[name=token]', TEST_ADMIN_TOKEN)
    await page.click('button[type=submit]')
    await page.waitForSelector('#users')
    const cookies = await browser.cookies(`${gw.url}/admin/ui`)
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatchObject({ name: '__burrow_admin', path: '/admin', httpOnly: true, sameSite: 'Strict', secure: false })
    expect(cookies[0]!.value).not.toContain(TEST_ADMIN_TOKEN)
    // The page script cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('')
  }, SLOW_TEST_MS)

  test('an agent connects and traffic flows: the page shows the user, its connection, and the requests as they come', async () => {
    const alice = await tokenFor('alice')
    await startAgent(gw.url, alice, origin.url, { connections: 2 })
    await page.waitForSelector('[data-user="alice"]', { timeout: 15_000 })
    const rows = await page.$$eval('#users tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''))
    expect(rows.filter((r) => r.includes('websocket'))).toHaveLength(2)
    expect(rows[0]).toContain('closed')
    for (let i = 0; i < 5; i++) await (await fetch(`${gw.url}/t/alice/hello?n=${i}`, { headers: { authorization: `Bearer ${alice}`, 'x-request-id': `dash-${i}` } })).text()
    await page.waitForFunction(() => document.getElementById('inspector')!.textContent!.includes('/hello?n=4'), undefined, { timeout: 15_000 })
    const before = Number(await page.textContent('#connections'))
    expect(before).toBe(2)
    // It keeps updating: a later request shows without reloading.
    await (await fetch(`${gw.url}/t/alice/sha256`, { method: 'POST', body: 'x'.repeat(2048), headers: { authorization: `Bearer ${alice}` } })).text()
    await page.waitForFunction(() => document.getElementById('inspector')!.textContent!.includes('/sha256'), undefined, { timeout: 15_000 })
    const text = (await page.textContent('#inspector')) ?? ''
    expect(text).toContain('dash-4')
    expect(text).toContain('2.0 KiB')
    expect(text).not.toContain(alice)
    const shot = join(ROOT, 'test-artifacts/dashboard.png')
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true })
    await page.screenshot({ path: shot, fullPage: true })
    expect(statSync(shot).size).toBeGreaterThan(10_000)
    if (process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(shot, join(ROOT, 'docs/dashboard.png'))
  }, SLOW_TEST_MS)

  test('state-changing calls with the session cookie need its CSRF token; with it, they work', async () => {
    const statuses = await page.evaluate(async () => {
      const csrf = document.querySelector<HTMLMetaElement>('meta[name=csrf-token]')!.content
      const without = await fetch('/admin/cleanup', { method: 'POST' })
      const forged = await fetch('/admin/cleanup', { method: 'POST', headers: { 'x-csrf-token': 'forged' } })
      const withToken = await fetch('/admin/cleanup', { method: 'POST', headers: { 'x-csrf-token': csrf } })
      const read = await fetch('/admin/stats')
      return [without.status, forged.status, withToken.status, read.status]
    })
    expect(statuses).toEqual([401, 401, 200, 200])
  }, SLOW_TEST_MS)

  test('signing out ends the session: the page goes back to the login form', async () => {
    await page.click('#logout')
    await page.waitForSelector('input[name=token]')
    expect(await page.evaluate(async () => (await fetch('/admin/stats')).status)).toBe(401)
  }, SLOW_TEST_MS)
})
