import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose'
import { signToken } from '../../src/auth/tokens.ts'
import { createVerifier } from '../../src/auth/verifier.ts'

const SECRET = 'verifier-test-secret-0123456789abcdef'

describe('token verification', () => {
  let server: ReturnType<typeof Bun.serve>
  let privateKey: CryptoKey
  let jwksUrl: string

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256')
    privateKey = pair.privateKey
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ keys: [jwk] }) })
    jwksUrl = `http://127.0.0.1:${server.port}/jwks.json`
  })
  afterAll(() => server.stop(true))

  const external = (claims: { sub?: string; iss?: string; aud?: string; exp?: number }) => {
    let jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt()
    if (claims.sub) jwt = jwt.setSubject(claims.sub)
    if (claims.iss) jwt = jwt.setIssuer(claims.iss)
    if (claims.aud) jwt = jwt.setAudience(claims.aud)
    jwt = jwt.setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
    return jwt.sign(privateKey)
  }

  test('the gateway’s own HS256 tokens verify; a wrong secret does not', async () => {
    const verify = createVerifier({ secret: SECRET })
    expect(await verify(await signToken(SECRET, 'alice', 60))).toMatchObject({ ok: true, claims: { user: 'alice' } })
    expect((await verify(await signToken('another-secret-0123456789abcdefghij', 'alice', 60))).ok).toBe(false)
  })

  test('expired tokens are refused with the reason', async () => {
    const verify = createVerifier({ secret: SECRET })
    const old = await signToken(SECRET, 'alice', 60, Date.now() - 3_600_000)
    expect(await verify(old)).toEqual({ ok: false, reason: 'token expired' })
  })

  test('alg "none" is refused', async () => {
    const verify = createVerifier({ secret: SECRET, jwksUrl: 'http://127.0.0.1:1/none' })
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 })}.`
    expect((await verify(unsigned)).ok).toBe(false)
  })

  test('an external issuer’s token verifies through its JWKS, with issuer and audience enforced', async () => {
    const verify = createVerifier({ secret: SECRET, jwksUrl, issuer: 'https://idp.test', audience: 'burrow' })
    expect(await verify(await external({ sub: 'bob', iss: 'https://idp.test', aud: 'burrow' }))).toMatchObject({ ok: true, claims: { user: 'bob' } })
    expect(await verify(await external({ sub: 'bob', iss: 'https://evil.test', aud: 'burrow' }))).toEqual({ ok: false, reason: 'token iss claim rejected' })
    expect(await verify(await external({ sub: 'bob', iss: 'https://idp.test', aud: 'other' }))).toEqual({ ok: false, reason: 'token aud claim rejected' })
  })

  test('an HS256 token signed with the JWKS public key material is not accepted (no algorithm confusion)', async () => {
    const verify = createVerifier({ secret: SECRET, jwksUrl })
    const jwks = (await (await fetch(jwksUrl)).json()) as { keys: object[] }
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])))
    expect((await verify(confused)).ok).toBe(false)
  })
})

describe('verified-token cache', () => {
  test('a cached token stops being accepted once it expires', async () => {
    let clock = Date.now()
    const verify = createVerifier({ secret: SECRET }, () => clock)
    const token = await signToken(SECRET, 'alice', 10, clock)
    expect((await verify(token)).ok).toBe(true)
    expect((await verify(token)).ok).toBe(true)
    clock += 10_000 + 31_000 // past exp plus the clock tolerance
    expect(await verify(token)).toEqual({ ok: false, reason: 'token expired' })
  })
})
