/**
 * What the gateway tells an agent about its budget, in fields of the WebSocket upgrade's 101
 * response (the agent reads them before SSH starts): how many connections its user may hold
 * (MAX_CONNECTIONS_PER_USER) and how many channels each carries (SSH_MAX_CHANNELS). An agent
 * facing an older gateway, or stock clients, simply do not see them.
 */
export const AGENT_LIMIT_HEADERS = {
  maxConnections: 'burrow-max-connections',
  channelsPerConnection: 'burrow-channels-per-connection',
} as const

/** The budget as the agent reads it; a field absent or malformed is undefined. */
export interface AgentLimits {
  readonly maxConnections: number | undefined
  readonly channelsPerConnection: number | undefined
}

/** Read the budget from the 101's fields (node's lower-cased `IncomingHttpHeaders` shape). */
export function readAgentLimits(headers: Record<string, string | string[] | undefined>): AgentLimits {
  const int = (name: string): number | undefined => {
    const v = headers[name]
    return typeof v === 'string' && /^\d{1,4}$/.test(v) && Number(v) > 0 ? Number(v) : undefined
  }
  return { maxConnections: int(AGENT_LIMIT_HEADERS.maxConnections), channelsPerConnection: int(AGENT_LIMIT_HEADERS.channelsPerConnection) }
}
