/**
 * curl as a real cookie jar (RFC 6265 domain and path matching done by libcurl, not by the test):
 * `-c`/`-b` on a jar file, `-v` to see exactly which Cookie field went out.
 */
import { execFile } from 'node:child_process'

export interface CurlResult {
  /** The final HTTP status (`%{http_code}`), 0 when none. */
  readonly status: number
  readonly body: string
  /** curl's `-v` trace: lines starting with `> ` are what it sent. */
  readonly trace: string
  /** The request fields curl sent, over all requests (redirects included), as `Name: value`. */
  readonly sent: readonly string[]
}

/** Run `curl -sS -v <args>` and resolve with the final status and body; rejects if curl cannot run. */
export function curl(args: readonly string[], timeoutMs = 20_000): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-v', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-w', '\n%{http_code}', ...args], { timeout: timeoutMs + 5_000 }, (err, stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('curl is not installed (apt-get install curl)'))
      const cut = stdout.lastIndexOf('\n')
      const sent = stderr
        .split('\n')
        .filter((l) => /^> [!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(l))
        .map((l) => l.slice(2).trimEnd())
      resolve({ status: Number(stdout.slice(cut + 1)) || 0, body: stdout.slice(0, cut), trace: stderr, sent })
    })
  })
}
