/**
 * What the README's runtime table says a gateway on Bun or Deno does instead, where its server
 * cannot carry something a local service sent (or a consumer asked for). Cases name these per
 * runtime (`DiffCase.onRuntime`); every other difference still fails the case.
 */
import type { RuntimeName } from './processes.ts'
import type { Canonical, Rule } from './differential.ts'

const webServers = (rules: readonly Rule[]): Partial<Record<RuntimeName, readonly Rule[]>> => ({ bun: rules, deno: rules })

/** Bun.serve and Deno.serve cannot send a 1xx response: 103 Early Hints is dropped, the 200 is whole. */
export const INTERIM_LIMIT = webServers([{ name: 'no 1xx from a web Response server', expect: (c) => ({ ...c, interim: [] }) }])

/** Neither can send trailers: they are dropped, and with them the Trailer field announcing them. */
export const TRAILERS_LIMIT = webServers([
  {
    name: 'no trailers from a web Response server',
    expect: (c) => {
      const { trailer: _announced, ...headers } = c.headers
      return { ...c, headers, trailers: {} }
    },
  },
])

/**
 * Their servers drop a GET request's body before the gateway sees it, so the gateway refuses
 * such a request with 400 and says why, rather than forwarding it without its body.
 */
export const GET_BODY_LIMIT: Partial<Record<RuntimeName, readonly Rule[]>> = Object.fromEntries(
  (['bun', 'deno'] as const).map((runtime) => [runtime, [getBodyRefused(runtime)]]),
)

function getBodyRefused(runtime: 'bun' | 'deno'): Rule {
  const refusal = { error: { code: 'bad_request', message: `Cannot forward the body of a GET request: the gateway's ${runtime} server drops it (send it as POST, or run the gateway on Node)` } }
  const asJson = (c: Canonical): Canonical => {
    if (!('text' in c.body)) return c
    try {
      return { ...c, body: { json: JSON.parse(c.body.text) } }
    } catch {
      return c
    }
  }
  return {
    name: `GET body refused with 400 (${runtime})`,
    canon: asJson,
    expect: (c) => ({
      ...c,
      status: 400,
      interim: [],
      headers: { 'content-type': ['application/json; charset=utf-8'] },
      lengthDeclared: false,
      body: { json: refusal },
      trailers: {},
      failure: '',
    }),
  }
}
