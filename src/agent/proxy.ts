import type { Agent } from 'node:http'
import { createRequire } from 'node:module'
import type { HttpsProxyAgent as ProxyAgentClass } from 'https-proxy-agent'

/**
 * Which HTTP CONNECT proxy to reach the gateway through. `--proxy URL` wins; otherwise the
 * environment as curl reads it: `https_proxy`/`HTTPS_PROXY` for a wss:// gateway,
 * `http_proxy`/`HTTP_PROXY` for ws://, then `all_proxy`/`ALL_PROXY`, unless `no_proxy`/`NO_PROXY`
 * names the gateway's host (`*`, a host, `.domain` or `domain` for it and its subdomains, optionally
 * with `:port`). Undefined means dial directly.
 * `proxyFor('wss://gw.example.com/tunnel', { HTTPS_PROXY: 'http://proxy:3128' })` → `'http://proxy:3128'`.
 */
export function proxyFor(target: string, env: Readonly<Record<string, string | undefined>>, explicit?: string): string | undefined {
  if (explicit !== undefined && explicit !== '') return explicit
  const url = new URL(target)
  const secure = url.protocol === 'wss:' || url.protocol === 'https:'
  const read = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined
  const proxy = (secure ? read('https_proxy') : read('http_proxy')) ?? read('all_proxy')
  if (proxy === undefined) return undefined
  const port = url.port === '' ? (secure ? '443' : '80') : url.port
  return bypassed(url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port, read('no_proxy') ?? '') ? undefined : proxy
}

function bypassed(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    // `[::1]:8080`, `::1` (a bare IPv6 address has no port), `host:8080`, `host`.
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
    const m = bracketed ?? (entry.split(':').length > 2 ? [entry, entry, undefined] : /^(.*?)(?::(\d+))?$/.exec(entry)!)
    const name = m[1]!.replace(/^\*?\./, '')
    if (m[2] !== undefined && m[2] !== port) continue
    if (host === name || host.endsWith(`.${name}`)) return true
  }
  return false
}

/** What a proxy URL is: `http://user:pass@proxy:3128` (or https://). Other schemes (socks) are not supported. */
export function checkProxyUrl(proxy: string): { ok: true } | { ok: false; message: string } {
  let url: URL
  try {
    url = new URL(proxy)
  } catch {
    return { ok: false, message: `${proxy} is not a URL (expected http://[user:password@]HOST:PORT)` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: `${url.protocol}// proxies are not supported (expected an HTTP CONNECT proxy, http://HOST:PORT)` }
  return { ok: true }
}

/**
 * The `http.Agent` that tunnels the gateway's WebSocket through the proxy with CONNECT
 * (https-proxy-agent); credentials in the URL go as `Proxy-Authorization: Basic`. Give it to
 * `ws` as `agent`: the TLS to a wss:// gateway (and `--ca`) then runs inside the tunnel.
 */
export function proxyAgent(proxy: string): Agent {
  // Loaded on use: an agent without a proxy does not pay its load time at every start.
  const { HttpsProxyAgent } = createRequire(import.meta.url)('https-proxy-agent') as { HttpsProxyAgent: typeof ProxyAgentClass }
  return new HttpsProxyAgent(proxy)
}
