import type { AgentStatus } from '../agent/agent.ts'

/** The agent's state in a few words: `connected (2/2)`, `reconnecting in 3.2 s (…)`. */
export function renderState(s: AgentStatus): string {
  if (s.phase === 'stopped') return 'stopped'
  if (s.phase === 'stopping') return `stopping (${s.inFlight ?? 0} in flight)`
  return s.connected === s.wanted
    ? `connected (${s.connected}/${s.wanted}${s.ceiling > s.wanted ? `, up to ${s.ceiling} when busy` : ''})`
    : s.retryInMs !== undefined
      ? `reconnecting in ${(s.retryInMs / 1000).toFixed(1)} s (${s.connected}/${s.wanted} up${s.lastError ? `; ${s.lastError}` : ''})`
      : `connecting (${s.connected}/${s.wanted}${s.lastError ? ` up; ${s.lastError}` : ''})`
}

/**
 * What counts as a change worth a line: connections up and wanted, and the last reason. Not the
 * countdown, and not "connecting" against "reconnecting in…": an agent refused at the user's
 * connection limit retries with growing pauses and must not print the same reason per attempt.
 */
export function stateKey(s: AgentStatus): string {
  if (s.phase !== undefined) return `${s.phase} ${s.inFlight ?? 0}`
  return `${s.connected}/${s.wanted}/${s.ceiling}${s.connected === s.wanted ? '' : ` ${s.lastError ?? ''}`}`
}

/** The whole status line. */
export function renderStatus(s: AgentStatus): string {
  return `burrow agent: ${renderState(s)} | requests served: ${s.served}`
}

// A busy tunnel serves thousands of requests a second: redrawing (or, off a terminal, logging a
// line) for each one cost a write per request. State changes show at once; a count that only
// grew shows at most this often.
const SERVED_REFRESH_MS = 1000

/**
 * The agent's status on stderr: redrawn in place on a terminal, a line per change elsewhere (a
 * service manager's log; a JSON object with LOG_FORMAT=json, the default). `show()` takes every
 * status update; on a terminal the caller also calls it every second to keep a countdown moving.
 */
export class StatusLine {
  #lastLine = ''
  #lastKey = ''
  #lastServed = 0
  #refresh: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly current: () => AgentStatus,
    /** Off a terminal: `json` (one log object per line, as LOG_FORMAT=json) or `text`. */
    private readonly offTty: 'json' | 'text' = 'text',
  ) {}

  show(s: AgentStatus): void {
    if (stateKey(s) !== this.#lastKey) return this.#print(s)
    // Off a terminal, only a grown served count is news; on one, the countdown is too.
    if (!this.tty && s.served === this.#lastServed) return
    this.#refresh ??= setTimeout(() => {
      this.#refresh = undefined
      this.#print(this.current())
    }, SERVED_REFRESH_MS)
  }

  /** The last word, on a line of its own. */
  finish(): void {
    clearTimeout(this.#refresh)
    this.#print(this.current())
    if (this.tty) this.write('\n')
  }

  #print(s: AgentStatus): void {
    const line = renderStatus(s)
    this.#lastKey = stateKey(s)
    this.#lastServed = s.served
    if (line === this.#lastLine) return
    this.#lastLine = line
    if (this.tty) return this.write(`\r\x1b[K${line}`)
    // A service manager's log reads one JSON object per line like the rest of stderr; the text
    // stays whole in `status` (what people and tests look for).
    if (this.offTty === 'json') {
      const record = { time: new Date().toISOString(), level: 'info', event: 'agent_status', status: line, connected: s.connected, wanted: s.wanted, served: s.served }
      return this.write(`${JSON.stringify(record)}\n`)
    }
    this.write(`${line}\n`)
  }
}
