/**
 * What the gateway got from a local service, before any runtime turned it into an answer: the
 * shapes the exchange produces and each runtime adapter's `respond()` consumes.
 *
 * Header fields travel as a flat `[name, value, name, value, …]` list in wire order. Names are
 * lower case; values are "byte strings" (latin1: each char U+0000–U+00FF stands for one byte), so
 * a UTF-8 filename in `Content-Disposition` reaches the consumer byte for byte.
 */
export type FieldList = string[]

/** An informational (1xx) response the service sent before its final one, e.g. 103 Early Hints. */
export interface InterimResponse {
  readonly status: number
  readonly headers: FieldList
}

export interface UpstreamResponse {
  /** 200–599 (checked). */
  readonly status: number
  /** The service's reason phrase, or '' when it sent none or one a server could not repeat. */
  readonly statusText: string
  /** Fields for the consumer: checked, hop-by-hop fields removed (RFC 9110 §7.6.1). */
  readonly headers: FieldList
  /**
   * The whole body when it arrived with the head (bytes), the body as it arrives (a stream that
   * errors if the service or the tunnel fails before the end), or null: no body (HEAD, 204, 304).
   */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null
  /** Informational responses that preceded this one (100 Continue is not kept). */
  readonly interim: readonly InterimResponse[]
  /**
   * The trailer section of a chunked body once it has ended (RFC 9110 §6.5); [] when there was
   * none, rejected when the body failed.
   */
  readonly trailers: Promise<FieldList>
}

/** The value of the first field called `name` (lower case), or undefined. */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}
