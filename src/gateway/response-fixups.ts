import { rewriteLocation, rewriteSetCookie, type LocationContext } from '../proxy/response-rewrite.ts'
import type { FieldList } from '../proxy/upstream-response.ts'
import { setsBurrowCookie } from './burrow-cookie.ts'

/**
 * What the gateway changes in a local service's response fields before the consumer sees them, in
 * place. Always: a `Set-Cookie` that would set Burrow's own login cookie is dropped (a service must
 * not plant a credential for its consumers). Under path routing (`location` given): `Location`,
 * `Content-Location` and `Set-Cookie` `Path` move under the tunnel's prefix (response-rewrite.ts),
 * so redirects and cookies stay inside `/t/<tunnel>/`.
 */
export function fixResponseFields(fields: FieldList, location: LocationContext | undefined): void {
  let write = 0
  for (let read = 0; read < fields.length; read += 2) {
    const name = fields[read]!
    let value = fields[read + 1]!
    if (name === 'set-cookie') {
      if (setsBurrowCookie(value)) continue
      if (location !== undefined) value = rewriteSetCookie(value, location.prefix)
    } else if (location !== undefined && (name === 'location' || name === 'content-location')) {
      value = rewriteLocation(value, location)
    }
    fields[write++] = name
    fields[write++] = value
  }
  fields.length = write
}
