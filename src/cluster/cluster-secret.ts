import { createHash, hkdfSync, timingSafeEqual } from 'node:crypto'

// A fixed label (HKDF `info`, RFC 5869 §3.2): the derived key is bound to this one use, so it can
// never equal the token secret, nor serve as a token signing key or any other derived key.
const LABEL = 'burrow cluster internal route v1'

/**
 * The secret instances present to each other on the internal route: `BURROW_CLUSTER_SECRET` when
 * set, else HKDF-SHA256 of the token secret (`BURROW_SECRET`, or the data dir's) with a fixed label,
 * as 43 base64url characters. Every instance sharing the token secret derives the same value, and
 * the token secret is never what travels between them.
 */
export function clusterSecret(configured: string | undefined, tokenSecret: string): string {
  if (configured !== undefined) return configured
  return Buffer.from(hkdfSync('sha256', tokenSecret, '', LABEL, 32)).toString('base64url')
}

/** Constant-time check of a presented value against the cluster secret (both hashed: lengths leak nothing). */
export function isClusterSecret(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(secret).digest()
  return timingSafeEqual(a, b)
}
