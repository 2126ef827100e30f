import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Paths of PEM files made by `makeCertificates()`; `dir` holds them all. */
export interface TestCertificates {
  readonly dir: string
  /** A private test CA (self-signed). */
  readonly caCert: string
  /** Server certificate for localhost, 127.0.0.1 and ::1, signed by the CA, and its key. */
  readonly serverCert: string
  readonly serverKey: string
  /** The server certificate followed by the CA certificate (a full chain file). */
  readonly chain: string
  /** A second CA that signed nothing here: trusting it must not make the server trusted. */
  readonly otherCaCert: string
  /** A certificate for another name only (wrong.example), signed by the CA, and its key. */
  readonly wrongNameCert: string
  readonly wrongNameKey: string
  /** A key that belongs to no certificate here. */
  readonly strayKey: string
  remove(): void
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

/**
 * Make a throwaway PKI with the system's `openssl` (Debian package openssl): a CA, a server
 * certificate for the loopback names, a wrong-name certificate and a stray key. EC P-256 keys keep
 * it fast (about 50 ms in all).
 */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-tls-'))
  const key = (name: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name], dir)
  const ca = (name: string, cn: string) => {
    key(`${name}.key`)
    openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.crt`], dir)
  }
  const leaf = (name: string, cn: string, san: string) => {
    key(`${name}.key`)
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir)
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`)
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir)
  }
  ca('ca', 'Burrow Test CA')
  ca('other-ca', 'Unrelated Test CA')
  leaf('server', 'localhost', 'DNS:localhost,IP:127.0.0.1,IP:::1')
  leaf('wrong', 'wrong.example', 'DNS:wrong.example')
  key('stray.key')
  execFileSync('sh', ['-c', 'cat server.crt ca.crt > chain.crt'], { cwd: dir })
  const at = (name: string) => join(dir, name)
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    chain: at('chain.crt'),
    otherCaCert: at('other-ca.crt'),
    wrongNameCert: at('wrong.crt'),
    wrongNameKey: at('wrong.key'),
    strayKey: at('stray.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
