import { decodeJwt } from 'jose'

/** The user a token names (`sub`), read without verifying: the gateway verifies it. */
export function tokenSubject(token: string): string | undefined {
  try {
    const sub = decodeJwt(token).sub
    return typeof sub === 'string' && sub !== '' ? sub : undefined
  } catch {
    return undefined
  }
}
