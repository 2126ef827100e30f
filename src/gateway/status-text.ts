import type { GatewayServices } from './services.ts'

/** What an OpenSSH user's `shell` shows: their tunnel, its connections and traffic. Nothing runs. */
export function statusText(svc: GatewayServices, user: string): string {
  const stats = svc.registry.stats().users.find((u) => u.user === user)
  const url = svc.config.baseDomain !== undefined ? `https://${user}.${svc.config.baseDomain}/` : `/t/${user}/`
  return [
    `Burrow tunnel for ${user}`,
    `  URL:          ${url}`,
    `  connections:  ${stats?.connections ?? 0} of ${svc.config.maxConnectionsPerUser}`,
    `  in flight:    ${stats?.busy ?? 0}`,
    `  served:       ${stats?.requests ?? 0} requests`,
    'This session executes nothing; press Ctrl-C to close it (the tunnel stays up with -N).',
    '',
  ].join('\n')
}
