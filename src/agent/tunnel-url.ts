/**
 * The WebSocket URL of the gateway's `/tunnel` route from what a user gives (`--server`, the
 * `ws-stdio` URL): http(s) becomes ws(s), and `/tunnel` is appended unless the path already ends
 * with it, so `https://gw`, `https://gw/tunnel` and `wss://host/prefix` all work (a gateway mounted
 * at `/prefix` is reached as `https://host/prefix`). An error text for anything but such a URL.
 * Example: `tunnelUrl('https://gw.example.com')` → `{ ok: true, url: 'wss://gw.example.com/tunnel' }`.
 */
export function tunnelUrl(given: string): { ok: true; url: string } | { ok: false; message: string } {
  let url: URL
  try {
    url = new URL(given)
  } catch {
    return { ok: false, message: `"${given}" is not a URL (expected e.g. https://gw.example.com)` }
  }
  const schemes: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }
  const scheme = schemes[url.protocol]
  if (scheme === undefined) return { ok: false, message: `"${given}": expected an http(s):// or ws(s):// URL` }
  url.protocol = scheme
  const path = url.pathname.replace(/\/+$/, '')
  url.pathname = path.endsWith('/tunnel') ? path : `${path}/tunnel`
  return { ok: true, url: url.toString() }
}
