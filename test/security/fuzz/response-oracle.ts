/**
 * The oracle of the response-direction fuzz: given what the local service wrote (the plan and its
 * reference reading) and what the consumer got, is the consumer's answer one of
 *   (a) the service's response relayed: its status (200-599), a head without control bytes and
 *       without fields the service did not send (but for the re-framing ones the gateway may add),
 *       a body that is a prefix of the framed one, and if shorter or never complete, a connection
 *       cut rather than a clean end;
 *   (b) Burrow's JSON 502 `upstream_unreachable`;
 *   (c) Burrow's JSON 504 `upstream_timeout`, only when the service did not finish its head in time.
 * A seed written unmutated and without stalls must also get what the seed says (relayed or refused).
 */
import type { ConsumerReply, RawExchange } from './consumer-reply.ts'
import { FUZZ_HEAD_TIMEOUT_MS, type ResponsePlan } from './response-plan.ts'
import type { Pairs } from './response-reference.ts'

export interface Verdict {
  /**
   * How the case ended, for the campaign's tally: relayed, relayed-cut (body cut, connection
   * aborted), cut-in-head, cut-before-head, 502, 504, or no-head / timeout (failures).
   */
  readonly outcome: string
  /** Broken rules, empty when the answer is sound. */
  readonly failures: string[]
}

/** Fields a gateway may add when it re-frames a response (RFC 9112 §6, RFC 9110 §6.6.1). */
const REFRAMING = new Set(['date', 'content-length', 'transfer-encoding', 'connection', 'x-request-id'])
/** Fields whose values the gateway rewrites (Location to the public host, cookie paths under the prefix). */
const REWRITTEN = new Set(['location', 'content-location', 'set-cookie'])
// RFC 9110 §5.5 and RFC 9112 §4: VCHAR, obs-text, SP and HTAB only.
const HEAD_LINE = /^[\t\x20-\x7e\x80-\xff]*$/

/** Judge what the consumer got for case `plan` (`x` raw, `reply` read); never throws. */
export function judge(plan: ResponsePlan, x: RawExchange, reply: ConsumerReply): Verdict {
  const failures: string[] = []
  const fail = (why: string) => void failures.push(why)
  const head = reply.head
  if (x.ended === 'timeout') fail(reply.complete ? 'the connection stayed open after a complete `Connection: close` answer' : `no complete answer within ${x.ms} ms (a hang)`)
  if (head === undefined && reply.partialHead !== undefined && x.ended !== 'timeout') return cutBeforeHead(plan, reply, failures)
  if (head === undefined) {
    fail(`no response head (${x.bytes.length} bytes, ${x.ended}${reply.error === undefined ? '' : `, ${reply.error}`})`)
    return { outcome: x.ended === 'timeout' ? 'timeout' : 'no-head', failures }
  }
  if (reply.badLineEnds) fail('a head line ended with a bare CR or LF')
  for (const line of reply.headLines.flat()) {
    if (!HEAD_LINE.test(line)) fail(`a control byte in the head line ${JSON.stringify(line.slice(0, 120))}`)
  }
  if (!/^HTTP\/1\.1 \d{3}( |$)/.test(reply.headLines.at(-1)?.[0] ?? '')) fail(`status line ${JSON.stringify(reply.headLines.at(-1)?.[0]?.slice(0, 60))}`)
  if (reply.extra > 0) fail(`${reply.extra} bytes after the end of the answer`)
  if (reply.error !== undefined) fail(`the answer is malformed (${reply.error})`)

  const mustRelay = mustBeRelayed(plan)
  const mustRefuse = plan.unmutated && plan.expect === 'refuse' && !plan.stalls
  const burrow = burrowError(reply, plan.method)
  if (head.status === 502 && burrow === 'upstream_unreachable') {
    if (!reply.complete) fail('the 502 was cut short')
    if (mustRelay) fail(`a valid response (seed ${plan.seedName}) was refused: ${reply.body.toString('latin1').slice(0, 200)}`)
    return { outcome: '502', failures }
  }
  if (head.status === 504 && burrow === 'upstream_timeout') {
    if (!reply.complete) fail('the 504 was cut short')
    if (plan.headKnownAtMs < FUZZ_HEAD_TIMEOUT_MS / 2) fail(`a 504 though the service ${plan.ref.head === undefined ? 'closed' : 'finished its head'} after ${plan.headKnownAtMs} ms`)
    return { outcome: '504', failures }
  }
  if (mustRefuse) fail(`seed ${plan.seedName} should have been refused (502), got ${head.status}`)
  relayed(plan, reply, fail)
  if (mustRelay && !reply.complete) fail(`a valid response (seed ${plan.seedName}) reached the consumer cut short (${reply.body.length} of ${plan.ref.body.length} body bytes)`)
  return { outcome: reply.complete ? 'relayed' : 'relayed-cut', failures }
}

/** An unmutated valid seed, delivered whole (no stall, no reset), must reach the consumer whole. */
function mustBeRelayed(plan: ResponsePlan): boolean {
  return plan.unmutated && plan.expect === 'relay' && !plan.stalls && plan.end !== 'rst' && plan.ref.complete
}

/** Rule (a): the consumer's answer is the service's, faithfully, or visibly cut. */
function relayed(plan: ResponsePlan, reply: ConsumerReply, fail: (why: string) => void): void {
  const head = reply.head!
  const ref = plan.ref
  if (head.status < 200 || head.status > 599) fail(`status ${head.status} outside 200-599`)
  if (ref.head === undefined) return fail(`status ${head.status} relayed, but the service sent no complete final head`)
  if (head.status !== ref.head.status) fail(`status ${head.status} relayed, but the service sent ${ref.head.status}`)
  for (const why of foreignFields(head.headers, ref.head.headers, REFRAMING)) fail(`head: ${why}`)
  for (const i of reply.interim) {
    const same = ref.interim.filter((s) => s.status === i.status)
    if (same.length === 0) fail(`an interim ${i.status} the service did not send`)
    // It must be one of the service's interims of that status, relayed faithfully.
    else if (!same.some((s) => foreignFields(i.headers, s.headers, new Set()).length === 0)) {
      for (const why of foreignFields(i.headers, same.flatMap((s) => s.headers), new Set())) fail(`interim ${i.status}: ${why}`)
    }
  }
  for (const why of foreignFields(reply.trailers, ref.trailers, new Set())) fail(`trailers: ${why}`)
  const got = reply.body
  const sent = ref.body
  const same = got.length <= sent.length && sent.subarray(0, got.length).equals(got)
  if (!same) fail(`the body is not a prefix of what the service framed: ${got.length} bytes got, ${sent.length} framed, first difference at ${firstDifference(got, sent)}`)
  if (reply.complete && !(ref.complete && got.length === sent.length)) {
    fail(`a body cut short was passed off as complete (${got.length} of ${sent.length} bytes, the service's ${ref.framing}-framed response ${ref.complete ? "was" : "was not"} complete, relayed ${reply.framing})`)
  }
}

/**
 * The connection ended before the final head was whole: torn inside it (Bun's server writes the
 * status line first and resets the connection when the body fails before its first byte), or
 * before its first byte (Node's, when the body fails before the corked head went out). An abort,
 * not a false completion: acceptable when the service did send a head (the gateway had taken it
 * and failed later), and what arrived is that status, clean. A seed that must be relayed must not
 * end so.
 */
function cutBeforeHead(plan: ResponsePlan, reply: ConsumerReply, failures: string[]): Verdict {
  const torn = reply.partialHead !== ''
  if (plan.ref.head === undefined) failures.push(`the connection closed ${torn ? 'inside' : 'before'} the head, and the service had sent no head: the answer should be a 502 or 504`)
  if (torn) {
    const first = reply.headLines.at(-1)?.[0] ?? reply.partialHead!.slice(0, 60)
    const status = /^HTTP\/1\.1 (\d{3})( |$)/.exec(first)?.[1]
    if (status === undefined) failures.push(`a torn head with status line ${JSON.stringify(first.slice(0, 60))}`)
    else if (plan.ref.head !== undefined && Number(status) !== plan.ref.head.status) failures.push(`a torn head with status ${status}, but the service sent ${plan.ref.head.status}`)
  }
  for (const line of reply.headLines.flat()) {
    if (!HEAD_LINE.test(line)) failures.push(`a control byte in the head line ${JSON.stringify(line.slice(0, 120))}`)
  }
  if (mustBeRelayed(plan)) failures.push(`a valid response (seed ${plan.seedName}) reached the consumer ${torn ? 'torn inside its head' : 'as a connection closed without an answer'}`)
  return { outcome: torn ? 'cut-in-head' : 'cut-before-head', failures }
}

/** Fields of `got` that `sent` does not hold (by name, and by value unless rewritten or re-framing). */
function foreignFields(got: Pairs, sent: Pairs, allowed: ReadonlySet<string>): string[] {
  const out: string[] = []
  for (const [name, value] of got) {
    const lower = name.toLowerCase()
    if (allowed.has(lower)) continue
    const values = sent.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v.trim())
    if (values.length === 0) out.push(`a field ${JSON.stringify(name.slice(0, 60))} the service did not send`)
    // Field lines of one name may be joined with commas (RFC 9110 §5.3), with or without a space.
    else if (!REWRITTEN.has(lower) && !values.map(commaNormal).includes(commaNormal(value)) && commaNormal(values.join(',')) !== commaNormal(value)) {
      out.push(`${lower}: ${JSON.stringify(value.slice(0, 80))}, but the service sent ${JSON.stringify(values.join(' | ').slice(0, 160))}`)
    }
  }
  return out
}

/** A field value with the whitespace around its commas and ends removed. */
const commaNormal = (v: string) => v.split(',').map((p) => p.trim()).join(',')

/**
 * The code of a Burrow JSON error body, or undefined. A HEAD answer has no body to show it: there,
 * a 502 or 504 typed as JSON is taken for Burrow's.
 */
function burrowError(reply: ConsumerReply, method: string): string | undefined {
  if (!reply.head?.headers.some(([n, v]) => n.toLowerCase() === 'content-type' && v.startsWith('application/json'))) return undefined
  if (method === 'HEAD') return reply.head.status === 502 ? 'upstream_unreachable' : reply.head.status === 504 ? 'upstream_timeout' : undefined
  try {
    const parsed = JSON.parse(reply.body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } }
    return typeof parsed.error?.message === 'string' && parsed.error.message !== '' && typeof parsed.error.code === 'string' ? parsed.error.code : undefined
  } catch {
    return undefined
  }
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return n
}
