import type { Context } from 'hono'
import type { GetConnInfo } from 'hono/conninfo'

/**
 * The consumer's address through a runtime's `getConnInfo`. When Burrow is embedded in a host
 * whose env does not carry the runtime's server or socket, the address is unknown, not an error.
 */
export function clientAddressVia(getConnInfo: GetConnInfo): (c: Context) => { address: string | undefined; port: number | undefined } {
  return (c) => {
    try {
      const remote = getConnInfo(c).remote
      return { address: remote.address, port: remote.port }
    } catch {
      return { address: undefined, port: undefined }
    }
  }
}
