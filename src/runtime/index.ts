import { createBunAdapter } from './bun.ts'
import { createDenoAdapter } from './deno.ts'
import { createNodeAdapter } from './node.ts'
import type { AdapterOptions, RuntimeAdapter, RuntimeName } from './types.ts'

export type { AdapterOptions, RelayedResponse, RuntimeAdapter, RuntimeGlue, RuntimeName, ServeHandle, ServeOptions, TunnelWSEvents, UpgradeOptions } from './types.ts'
export { detectRuntime } from './detect.ts'

/**
 * The adapter of runtime `name`, built at once: no adapter touches its runtime's globals before it
 * serves or upgrades, so all three load anywhere (a test fakes the globals to try each).
 */
export function createRuntimeAdapter(name: RuntimeName, options: AdapterOptions): RuntimeAdapter {
  switch (name) {
    case 'bun':
      return createBunAdapter(options)
    case 'deno':
      return createDenoAdapter(options)
    case 'node':
      return createNodeAdapter(options)
  }
}
