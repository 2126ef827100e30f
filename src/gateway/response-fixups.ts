import { rewriteLocation, rewriteSetCookie, type LocationContext } from '../proxy/response-rewrite.ts'
import type { FieldList } from '../proxy/upstream-response.ts'
import { setsBurrowCookie } from './burrow-cookie.ts'

/**
 * What the gateway changes in a local service's response fields before the consumer sees them, in
 * place. A `Set-Cookie` that would set Burrow's own login cookie is dropped (a service must not
 * plant a credential for its consumers). `Location` and `Content-Location` naming the service's
 * own host (the Host it was sent, so the one it builds absolute URLs from) point at the public
 * host instead, under either routing; under path routing (a prefix other than `/`) path-absolute
 * ones and `Set-Cookie` `Path` also move under `/t/<tunnel>/` (response-rewrite.ts). The
 * consumer gets the request's id as X-Request-Id, in place of any the service sent.
 */
export function fixResponseFields(fields: FieldList, location: LocationContext | undefined, requestId?: string): void {
  const cookiePrefix = location !== undefined && location.prefix !== '/' ? location.prefix : undefined
  let write = 0
  for (let read = 0; read < fields.length; read += 2) {
    const name = fields[read]!
    let value = fields[read + 1]!
    if (name === 'x-request-id' && requestId !== undefined) continue
    if (name === 'set-cookie') {
      if (setsBurrowCookie(value)) continue
      if (cookiePrefix !== undefined) value = rewriteSetCookie(value, cookiePrefix)
    } else if (location !== undefined && (name === 'location' || name === 'content-location')) {
      value = rewriteLocation(value, location)
    }
    fields[write++] = name
    fields[write++] = value
  }
  fields.length = write
  if (requestId !== undefined) fields.push('x-request-id', requestId)
}
