import { readFileSync } from 'node:fs'

// OpenSSL's verification results as Node (and Bun's ws) report them in `err.code`: the gateway's
// certificate could not be trusted, so retrying cannot help until someone changes a file.
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
])
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])
const WRONG_NAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH'])

/**
 * Why a connection to an https/wss gateway failed its TLS check, in words that say what to do, or
 * undefined when `err` is not such a failure (an unreachable host, a refused port: retried).
 * `usedCa` says whether `--ca` was given, which changes the advice.
 */
export function describeTlsFailure(err: Error & { code?: string }, url: string, usedCa: boolean): string | undefined {
  const code = err.code ?? ''
  const host = hostOf(url)
  // Node's OpenSSL messages end in a newline.
  const detail = err.message.trim()
  if (UNTRUSTED.has(code)) {
    return usedCa
      ? `the gateway's TLS certificate for ${host} is not signed by the CA given with --ca (${detail})`
      : `the gateway's TLS certificate for ${host} is not trusted (${detail}); if it comes from a private CA or is self-signed, pass --ca FILE with that CA's certificate`
  }
  if (EXPIRED.has(code)) return `the gateway's TLS certificate for ${host} is outside its validity period (${detail})`
  if (WRONG_NAME.has(code)) return `the gateway's TLS certificate does not name ${host} (${detail}); use the host name the certificate was issued for`
  // A plain-HTTP port answering a TLS ClientHello (Node: EPROTO 'wrong version number').
  if (/wrong[ _]version[ _]number|packet[ _]length[ _]too[ _]long|unknown[ _]protocol/i.test(detail)) {
    return `${host} does not speak TLS on that port (${detail}); is the gateway served over http:// (no TLS_CERT_FILE)?`
  }
  return undefined
}

/**
 * Read `--ca FILE`: PEM certificates to trust for the gateway instead of the system's store.
 * @throws Error with the path and the reason when unreadable or not PEM.
 */
export function readCaFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`--ca ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`--ca ${path}: no PEM certificate in it (expected a -----BEGIN CERTIFICATE----- block)`)
  return text
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}
