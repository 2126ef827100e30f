/** What the rest of Burrow (the public API, the CLI) may use of the gateway shell. */
export { createGatewayShell, type Gateway, type GatewayIdentity, type GatewayShellOptions } from './create-gateway.ts'
export { DataDirError, readSecret } from './data-dir.ts'
export { TlsFilesError, type TlsSummary } from './tls-files.ts'
export type { GatewayStats } from './routes/admin.ts'
