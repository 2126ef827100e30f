/**
 * The largest WebSocket message a tunnel accepts: 16 MiB. SSH packets are at most ~35 KB and an
 * agent sends one event-loop turn of them per frame; anything near this is an attack on memory.
 * Bun enforces it while reading (`maxPayloadLength` in runtime/bun.ts), Node too (`maxPayload` in
 * runtime/node.ts). Deno cannot be told and reads up to 64 MiB, so the tunnel route also checks
 * every message it is handed and closes the connection with 1009 above this.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024

/** A WebSocket close reason fits in 123 bytes (RFC 6455 §5.5: control payload ≤ 125, minus the code). */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text)
  if (bytes.length <= 123) return text
  // Cut on a character boundary: a truncated UTF-8 sequence would make the close frame invalid.
  return new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD$/, '') + '...'
}
