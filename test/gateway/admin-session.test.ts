import { describe, expect, test } from 'bun:test'
import { ADMIN_SESSION_MS, AdminSessions } from '../../src/gateway/admin-session.ts'

describe('AdminSessions', () => {
  test('a session has a random id and CSRF token, lasts ADMIN_SESSION_MS, and ends on logout', () => {
    let now = 1_000_000
    const s = new AdminSessions(() => now)
    const a = s.create()
    const b = s.create()
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(new Set([a.id, a.csrf, b.id, b.csrf]).size).toBe(4)
    expect(s.get(a.id)?.csrf).toBe(a.csrf)
    expect(s.get('forged')).toBeUndefined()
    s.end(b.id)
    expect(s.get(b.id)).toBeUndefined()
    now += ADMIN_SESSION_MS
    expect(s.get(a.id)).toBeUndefined()
  })
})
