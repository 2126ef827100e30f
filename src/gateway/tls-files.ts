import { X509Certificate, createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { TlsFiles } from '../runtime/types.ts'

/** Thrown when TLS_CERT_FILE / TLS_KEY_FILE cannot be served: `message` names the file and why. */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError'
}

/** What the banner and the `listening` log line say about the certificate served. */
export interface TlsSummary {
  /** The leaf certificate's subject, as OpenSSL prints it (`CN=gw.example.com`). */
  readonly subject: string
  /** The leaf's subjectAltName, as OpenSSL prints it (`DNS:gw.example.com, IP Address:127.0.0.1`), or ''. */
  readonly subjectAltName: string
  /** ISO 8601 expiry of the leaf (notAfter). */
  readonly validTo: string
  /** SHA-256 fingerprint of the leaf, colon-separated hex. */
  readonly fingerprint256: string
}

/**
 * Read and check a certificate chain and private key before any server sees them, so a wrong file
 * stops the gateway at start with the file's name instead of a runtime's TLS error on the first
 * handshake (or none at all: Bun serves plain HTTP for some bad inputs). Checks: both files
 * readable, PEM, the first certificate parses, the key parses, the key belongs to the certificate,
 * the certificate is not expired at `now` (ms since epoch).
 * @throws TlsFilesError naming the variable, the path and the reason.
 */
export function loadTlsFiles(certFile: string, keyFile: string, now = Date.now()): { files: TlsFiles; summary: TlsSummary } {
  const cert = readPem('TLS_CERT_FILE', certFile)
  const key = readPem('TLS_KEY_FILE', keyFile)
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(cert)
  } catch (err) {
    throw new TlsFilesError(`TLS_CERT_FILE ${certFile}: not a PEM certificate (${(err as Error).message})`)
  }
  let privateKey
  try {
    privateKey = createPrivateKey(key)
  } catch (err) {
    throw new TlsFilesError(`TLS_KEY_FILE ${keyFile}: not a PEM private key, or one protected by a passphrase (${(err as Error).message})`)
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFilesError(`TLS_KEY_FILE ${keyFile} is not the private key of the certificate in TLS_CERT_FILE ${certFile} (the first certificate of the file must be the server's own)`)
  }
  const validTo = new Date(leaf.validTo)
  if (validTo.getTime() <= now) {
    throw new TlsFilesError(`TLS_CERT_FILE ${certFile}: the certificate expired on ${validTo.toISOString()}`)
  }
  return {
    files: { cert, key },
    summary: {
      subject: leaf.subject.replaceAll('\n', ', '),
      subjectAltName: leaf.subjectAltName ?? '',
      validTo: validTo.toISOString(),
      fingerprint256: leaf.fingerprint256,
    },
  }
}

function readPem(variable: string, path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new TlsFilesError(`${variable} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  if (!text.includes('-----BEGIN ')) throw new TlsFilesError(`${variable} ${path}: not PEM (no -----BEGIN line)`)
  return text
}
