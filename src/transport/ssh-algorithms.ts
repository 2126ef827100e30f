import type { Algorithms } from 'ssh2'

/**
 * What Burrow negotiates, on both ends: curve25519/ECDH key exchange, AES-GCM (Bun's crypto has no
 * chacha20-poly1305, so GCM is the fast AEAD everywhere), ed25519 host keys, no SHA-1 anywhere.
 * The MAC list only matters if a peer cannot do GCM; it keeps SHA-2 ETM.
 */
export const SSH_ALGORITHMS: Algorithms = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384'],
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'],
  serverHostKey: ['ssh-ed25519'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'],
  compress: ['none'],
}
