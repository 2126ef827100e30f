import { createHash, timingSafeEqual } from 'node:crypto'
import { bearerOf } from '../auth/tokens.ts'
import type { TokenVerifier } from '../auth/verifier.ts'

/** `exp`: the token's expiry (seconds since the epoch), when it has one. */
export type Authn = { ok: true; user: string; exp?: number | undefined } | { ok: false; missing: boolean; reason: string }

/** Authenticate a request's bearer token (gateway secret, or the external issuer when configured). */
export async function authenticate(verify: TokenVerifier, authorization: string | undefined): Promise<Authn> {
  const token = bearerOf(authorization)
  if (token === undefined) return { ok: false, missing: true, reason: 'a bearer token is required' }
  const verified = await verify(token)
  return verified.ok ? { ok: true, user: verified.claims.user, exp: verified.claims.exp } : { ok: false, missing: false, reason: verified.reason }
}

/** Constant-time comparison of two secrets (admin token): both hashed first, so lengths leak nothing either. */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest()
  const db = createHash('sha256').update(b).digest()
  return timingSafeEqual(da, db)
}
