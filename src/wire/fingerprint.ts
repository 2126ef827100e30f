import { createHash } from 'node:crypto'

/**
 * The SHA256 fingerprint of an SSH public key blob, as OpenSSH prints it (`ssh-keygen -l`):
 * `SHA256:` and the unpadded base64 of the digest, e.g. `SHA256:tn7IOFE/KfjyVAQmPVPs7P43qKi9jUhezozwuaeKh/0`.
 */
export function fingerprintOfBlob(blob: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
}

/** What `--fingerprint` and known fingerprints look like: `SHA256:` and 43 base64 characters. */
export const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/
