/**
 * Where a tunnel lives in the gateway's URL space under path routing: `<mount>/t/<tunnel>/`.
 * The browser login cookie is scoped to it and the proxy rewrites `Location` and `Set-Cookie`
 * `Path` into it. Under host routing a tunnel owns its whole host, so its prefix is `/`.
 */

/**
 * The public path prefix of `tunnel`, starting and ending with `/`.
 * `mount` is where the gateway is mounted in a host app: `''` (or `/`) at the root, `/burrow` under a prefix.
 * Examples: `tunnelPrefix('', 'alice')` → `/t/alice/`; `tunnelPrefix('/burrow/', 'alice')` → `/burrow/t/alice/`.
 */
export function tunnelPrefix(mount: string, tunnel: string): string {
  let m = mount
  while (m.endsWith('/')) m = m.slice(0, -1)
  if (m !== '' && !m.startsWith('/')) m = '/' + m
  return `${m}/t/${tunnel}/`
}

/**
 * The mount prefix of a Hono route path that contains `/t/:tunnel` (`c.req.routePath`):
 * `/burrow/t/:tunnel/*` → `/burrow`, `/t/:tunnel` → `''`. A route without that segment gives `''`.
 */
export function mountPrefixOf(routePath: string): string {
  const at = routePath.indexOf('/t/:tunnel')
  return at <= 0 ? '' : routePath.slice(0, at)
}
