import type { AuthContext } from 'ssh2'
import type { Logger } from '../log/logger.ts'
import { findKey, readAuthorizedKeys } from './authorized-keys.ts'
import type { TokenVerifier } from './verifier.ts'

/**
 * What one SSH authentication request earns: `authenticated` (the user is in), `key-ok` (a
 * publickey query without signature names an authorized key: the client may now sign with it),
 * or `rejected`. Unknown user, unknown key, bad signature, bad token: all the same `rejected`,
 * so a client learns nothing about which users or keys exist.
 */
export type CredentialVerdict = 'authenticated' | 'key-ok' | 'rejected' | TokenAuthenticated

/** Authenticated by a token as the password: the session ends when the token does (`exp`, seconds). */
export interface TokenAuthenticated {
  readonly exp: number
}

/** Checks OpenSSH users' credentials: an authorized public key, or a gateway token as the password. */
export type SshCredentialCheck = (ctx: AuthContext) => Promise<CredentialVerdict>

export interface SshCredentialOptions {
  /** Where `users/<user>/authorized_keys` live (the gateway's data dir). */
  readonly dataDir: string
  readonly verify: TokenVerifier
  readonly log: Logger
}

/** Build the credential check. Example: `const check = sshCredentials({ dataDir, verify, log })`. */
export function sshCredentials(opts: SshCredentialOptions): SshCredentialCheck {
  return async (ctx) => {
    if (ctx.method === 'publickey') {
      if (ctx.key === undefined) return 'rejected'
      // Read on every attempt: `burrow keys add` takes effect without a restart.
      const { keys, skipped } = await readAuthorizedKeys(opts.dataDir, ctx.username)
      if (skipped.length > 0) opts.log.warn('authorized_keys_lines_skipped', { user: ctx.username, lines: skipped })
      const known = findKey(keys, ctx.key.data)
      if (known === undefined) return 'rejected'
      if (ctx.signature === undefined || ctx.blob === undefined) return 'key-ok'
      // ssh2 builds `blob` itself (session id + this request), so a valid signature proves
      // possession of the private key for this session and this user name.
      return known.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? 'authenticated' : 'rejected'
    }
    if (ctx.method === 'password') {
      // A gateway token as the password: the fallback for users without a key on file. Its
      // subject must be the SSH user name, exactly as a bearer token must own its tunnel.
      const verified = await opts.verify(ctx.password)
      if (!verified.ok || verified.claims.user !== ctx.username) return 'rejected'
      return verified.claims.exp === undefined ? 'authenticated' : { exp: verified.claims.exp }
    }
    return 'rejected'
  }
}
