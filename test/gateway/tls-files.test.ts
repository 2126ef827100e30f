import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadTlsFiles, TlsFilesError } from '../../src/gateway/tls-files.ts'
import { makeCertificates, type TestCertificates } from '../support/certificates.ts'

let certs: TestCertificates
beforeAll(() => {
  certs = makeCertificates()
})
afterAll(() => certs.remove())

describe('loadTlsFiles', () => {
  test('a chain and its key: the PEM text as read, and a summary of the leaf', () => {
    const { files, summary } = loadTlsFiles(certs.chain, certs.serverKey)
    expect(files.cert).toContain('-----BEGIN CERTIFICATE-----')
    expect(files.cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
    expect(files.key).toContain('PRIVATE KEY')
    expect(summary.subject).toBe('CN=localhost')
    expect(summary.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
    expect(Date.parse(summary.validTo)).toBeGreaterThan(Date.now())
    expect(summary.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  })

  test('expired at `now`: refused with the date', () => {
    const later = Date.now() + 10 * 86_400_000
    expect(() => loadTlsFiles(certs.serverCert, certs.serverKey, later)).toThrow(/TLS_CERT_FILE \S+server\.crt: the certificate expired on 20\d\d-/)
  })

  test('a chain whose first certificate is the CA: the key does not match, and the message says which must come first', () => {
    const reversed = join(certs.dir, 'reversed.crt')
    writeFileSync(reversed, `${readFileSync(certs.caCert, 'utf8')}${readFileSync(certs.serverCert, 'utf8')}`)
    expect(() => loadTlsFiles(reversed, certs.serverKey)).toThrow(/the first certificate of the file must be the server's own/)
  })

  test.each([
    ['a directory', () => [certs.dir, certs.serverKey], /TLS_CERT_FILE \S+: cannot read \(EISDIR\)/],
    ['garbage in PEM armour', () => {
      const bad = join(certs.dir, 'bad.crt')
      writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n')
      return [bad, certs.serverKey]
    }, /TLS_CERT_FILE \S+bad\.crt: not a PEM certificate/],
    ['no armour at all', () => {
      const txt = join(certs.dir, 'plain.txt')
      writeFileSync(txt, 'hello')
      return [certs.serverCert, txt]
    }, /TLS_KEY_FILE \S+plain\.txt: not PEM \(no -----BEGIN line\)/],
  ] as const)('%s: TlsFilesError naming the variable and the file', (_what, paths, message) => {
    const [cert, key] = paths()
    expect(() => loadTlsFiles(cert!, key!)).toThrow(TlsFilesError)
    expect(() => loadTlsFiles(cert!, key!)).toThrow(message)
  })
})
