export { createGateway, type CreateGatewayOptions, type Gateway } from './gateway/create-gateway.ts'
export { createAgent, type AgentOptions, type Agent } from './agent/agent.ts'
export { signToken, verifyToken } from './auth/tokens.ts'
export { ConfigError, type Config, type GatewayOptions } from './config/index.ts'
