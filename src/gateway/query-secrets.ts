/**
 * A request target fit for an admin's eyes: the query without anything that looks like a
 * credential. `burrow_token` (the browser login, gateway/login-query.ts) and parameters whose
 * decoded name mentions a token, key, secret, password, signature, session, auth code or
 * credential (`access_token`, `api_key`, `X-Amz-Signature`, `code`…) are removed whole, name and
 * value. Other parameters stay as sent, in order.
 */

// Name fragments of credential-carrying parameters (OAuth 2.0 RFC 6749 §4.1.2 `code`, RFC 6750 §2.3
// `access_token`, AWS SigV4 query auth, API keys, passwords, session ids, JWTs).
const SECRET_NAME = /token|key|secret|pass(word|wd)?|pwd|sig(nature)?|session|sess_?id|auth|credential|jwt|^code$|otp|nonce|ticket|cookie/i

/** Longest target kept (the inspector is bounded memory, not a full log). */
export const TARGET_MAX = 512

/**
 * `target` (origin-form, as sent) with credential-looking query parameters removed and cut at
 * TARGET_MAX characters. Pure; never throws.
 * Example: `withoutQuerySecrets('/a?x=1&burrow_token=T&api_key=K')` → `'/a?x=1'`.
 */
export function withoutQuerySecrets(target: string): string {
  const q = target.indexOf('?')
  if (q < 0) return cut(target)
  const kept: string[] = []
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    if (!SECRET_NAME.test(decodeName(eq < 0 ? part : part.slice(0, eq)))) kept.push(part)
  }
  return cut(kept.length === 0 ? target.slice(0, q) : `${target.slice(0, q)}?${kept.join('&')}`)
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    // Undecodable: judge it as sent (a name that hides behind bad escapes is dropped when it matches).
    return raw
  }
}

function cut(s: string): string {
  return s.length <= TARGET_MAX ? s : `${s.slice(0, TARGET_MAX)}…`
}
