import { SignJWT, errors, jwtVerify } from 'jose'

const ALG = 'HS256'
/** Skew allowed on `exp`/`nbf`, seconds: the clocks of issuers, agents and gateways drift a little. */
export const CLOCK_TOLERANCE_S = 30

/**
 * What Burrow takes from a verified JWT payload, whoever signed it: the subject is the user (it
 * must be a non-empty string), `exp` is kept for the browser login cookie's lifetime.
 */
export function claimsOf(payload: { sub?: unknown; exp?: unknown }): VerifyResult {
  if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, reason: 'token has no subject' }
  return { ok: true, claims: { user: payload.sub, ...(typeof payload.exp === 'number' ? { exp: payload.exp } : {}) } }
}

/** A verified token: who it is for. */
export interface TokenClaims {
  readonly user: string
  /** Expiry, seconds since the epoch, when the token has one. */
  readonly exp?: number
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: string }

const keyCache = new Map<string, Uint8Array>()
function keyOf(secret: string): Uint8Array {
  let key = keyCache.get(secret)
  if (key === undefined) {
    key = new TextEncoder().encode(secret)
    keyCache.set(secret, key)
  }
  return key
}

/** Parse a TTL such as `30d`, `12h`, `15m`, `90s` into seconds. */
export function parseTtl(ttl: string): number | undefined {
  const m = /^(\d+)([smhd])$/.exec(ttl.trim())
  if (m === null) return undefined
  const n = Number(m[1])
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd']
  return n > 0 ? n * unit : undefined
}

/** Sign a token for `user` (HS256, `sub` = user). Example: `await signToken(secret, 'alice', 86400)`. */
export async function signToken(secret: string, user: string, ttlSeconds: number, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(user)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(keyOf(secret))
}

/** Verify a token: HS256 only (no `none`, no algorithm confusion), `exp`/`nbf` honoured. */
export async function verifyToken(secret: string, token: string, now: number = Date.now()): Promise<VerifyResult> {
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { algorithms: [ALG], clockTolerance: CLOCK_TOLERANCE_S, currentDate: new Date(now) })
    return claimsOf(payload)
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, reason: 'token expired' }
    if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'bad token signature' }
    if (err instanceof errors.JOSEError) return { ok: false, reason: 'invalid token' }
    throw err
  }
}

/** The bearer token of an Authorization header value, if any. */
export function bearerOf(header: string | undefined | null): string | undefined {
  if (header == null) return undefined
  const m = /^Bearer[ \t]+([^\s]+)\s*$/i.exec(header)
  return m?.[1]
}
