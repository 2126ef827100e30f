/**
 * Syntax rules for names the whole system shares; one home each.
 */

/**
 * A tunnel (and user) name: a DNS label (RFC 1123), lower case, since a tunnel is also reached as
 * `<tunnel>.<base domain>`: `alice`, `team-7`.
 */
export const TUNNEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * A Host field value (RFC 9110 §7.2, RFC 3986 §3.2.2): one host (a name, IPv4, or [IPv6]) and an
 * optional port, no userinfo, no path. Reg-names keep to the characters hostnames use (underscore
 * included, for internal names).
 */
export const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/
