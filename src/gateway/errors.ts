/** The error vocabulary of the HTTP contract (README: "Errors"), in one place. */
export const ERROR_STATUS = {
  unauthorized: 401,
  forbidden: 403,
  tunnel_not_found: 404,
  rate_limited: 429,
  upstream_unreachable: 502,
  tunnel_saturated: 503,
  circuit_open: 503,
  draining: 503,
  upstream_timeout: 504,
  bad_request: 400,
  not_found: 404,
  uri_too_long: 414,
  headers_too_large: 431,
  internal: 500,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

/** A JSON error response `{"error":{"code","message"}}` with the status its code maps to. */
export function errorResponse(code: ErrorCode, message: string, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status: ERROR_STATUS[code],
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  })
}

/** The catch-all for a route that does not exist: 404 `not_found`. */
export function notFound(method: string, path: string): Response {
  return errorResponse('not_found', `no route for ${method} ${path.slice(0, 200)}`)
}

/** What a request gets when the gateway itself failed (the error is logged, never shown): 500 `internal`. */
export function unhandled(): Response {
  return errorResponse('internal', 'internal error; the gateway logged it')
}
