/**
 * What a WebSocket opening handshake must carry before the gateway answers it (RFC 6455 §4.2.1).
 * Checked before anything is set up for it: the runtimes refuse a bad handshake only inside their
 * upgrade call (Bun's `server.upgrade` returns false, Hono then throws), which came after the
 * gateway had opened the upstream WebSocket and taken a channel slot, and left both behind.
 * `checkWebSocketUpgrade('GET', headers)` → undefined, or why not.
 */
export function checkWebSocketUpgrade(method: string, headers: Headers): string | undefined {
  if (method !== 'GET') return 'a WebSocket upgrade must be a GET'
  if (!tokens(headers.get('upgrade')).includes('websocket')) return 'expected Upgrade: websocket'
  if (!tokens(headers.get('connection')).includes('upgrade')) return 'expected Connection: Upgrade'
  if (headers.get('sec-websocket-version') !== '13') return 'only WebSocket version 13 is supported'
  // A base64-encoded 16-byte nonce is 24 characters ending in "==".
  if (!/^[A-Za-z0-9+/]{22}==$/.test(headers.get('sec-websocket-key') ?? '')) return 'Sec-WebSocket-Key must be a base64 16-byte nonce'
  return undefined
}

function tokens(value: string | null): string[] {
  return (value ?? '').split(',').map((t) => t.trim().toLowerCase())
}
