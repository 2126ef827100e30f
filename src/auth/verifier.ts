import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { verifyToken, type VerifyResult } from './tokens.ts'

const CLOCK_TOLERANCE_S = 30
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
export type TokenVerifier = (token: string) => Promise<VerifyResult>

/** Build the verifier from config. Example: `const verify = createVerifier({ secret })`. */
export function createVerifier(opts: VerifierOptions): TokenVerifier {
  const jwks: JWTVerifyGetKey | undefined = opts.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(opts.jwksUrl))
  return async (token) => {
    const own = await verifyToken(opts.secret, token)
    if (own.ok || jwks === undefined) return own
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: EXTERNAL_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        ...(opts.issuer !== undefined ? { issuer: opts.issuer } : {}),
        ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
      })
      if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, reason: 'token has no subject' }
      return { ok: true, claims: { user: payload.sub } }
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, reason: 'token expired' }
      if (err instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `token ${err.claim} claim rejected` }
      if (err instanceof errors.JOSEError) return own
      throw err
    }
  }
}
