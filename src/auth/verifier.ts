import { LRUCache } from 'lru-cache'
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { claimsOf, CLOCK_TOLERANCE_S, verifyToken, type TokenClaims, type VerifyResult } from './tokens.ts'

// Asymmetric algorithms only for external issuers: an HS* token must never be checked against a
// public key (algorithm confusion), and `none` is never accepted.
const EXTERNAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']

export interface VerifierOptions {
  readonly secret: string
  readonly jwksUrl?: string | undefined
  readonly issuer?: string | undefined
  readonly audience?: string | undefined
}

/** Verifies a bearer token: first against the gateway's own HS256 secret, then (if configured) an external issuer's JWKS. */
export type TokenVerifier = (token: string) => VerifyResult | Promise<VerifyResult>

// Verified tokens are remembered for a while: a consumer sends the same token on every request,
// and re-checking its signature each time was a visible share of the gateway's CPU. Only
// successes are cached, never past the token's own expiry.
const CACHE_MAX = 10_000
const CACHE_TTL_MS = 60_000

/** Build the verifier from config, with a cache of verified tokens. Example: `const verify = createVerifier({ secret })`. */
export function createVerifier(opts: VerifierOptions, now: () => number = Date.now): TokenVerifier {
  const verify = uncachedVerifier(opts, now)
  const cache = new LRUCache<string, { result: VerifyResult & { ok: true }; until: number }>({ max: CACHE_MAX })
  // A cache hit answers at once, without a promise (callers await either).
  return (token) => {
    const hit = cache.get(token)
    const t = now()
    // The claims as verified, `exp` included: a browser login sets its cookie's lifetime from it.
    if (hit !== undefined && hit.until > t) return hit.result
    return Promise.resolve(verify(token)).then((result) => {
      if (result.ok) {
        const expMs = result.claims.exp === undefined ? Infinity : result.claims.exp * 1000
        cache.set(token, { result: { ok: true, claims: result.claims }, until: Math.min(t + CACHE_TTL_MS, expMs) })
      } else if (hit !== undefined) {
        cache.delete(token)
      }
      return result
    })
  }
}

function uncachedVerifier(opts: VerifierOptions, now: () => number): TokenVerifier {
  const jwks: JWTVerifyGetKey | undefined = opts.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(opts.jwksUrl))
  return async (token) => {
    const own = await verifyToken(opts.secret, token, now())
    if (own.ok || jwks === undefined) return own
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: EXTERNAL_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now()),
        ...(opts.issuer !== undefined ? { issuer: opts.issuer } : {}),
        ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
      })
      return claimsOf(payload)
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, reason: 'token expired' }
      if (err instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `token ${err.claim} claim rejected` }
      if (err instanceof errors.JOSEError) return own
      throw err
    }
  }
}
