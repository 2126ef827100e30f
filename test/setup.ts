import { setDefaultTimeout } from 'bun:test'

// e2e tests spawn real gateways, agents and origins and move hundreds of MiB through them.
setDefaultTimeout(60_000)
