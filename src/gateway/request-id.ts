import { randomUUID } from 'node:crypto'
import { REQUEST_ID, REQUEST_ID_FIELD } from '../wire/index.ts'

/**
 * The id of a consumer request: the consumer's `X-Request-Id` when it is 1–128 characters of the
 * allowed set (wire/request-id.ts), else a new random UUID (a bad one is replaced, never passed
 * on: it ends up in log lines and the service's logs).
 */
export function requestIdOf(sent: string | undefined): string {
  return sent !== undefined && REQUEST_ID.test(sent) ? sent : randomUUID()
}

/** `res` with the request's id as X-Request-Id (Burrow's own answers, which it can still change). */
export function withRequestId(res: Response, requestId: string): Response {
  res.headers.set(REQUEST_ID_FIELD, requestId)
  return res
}
