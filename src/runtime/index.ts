import type { Hono } from 'hono'
import { detectRuntime } from './detect.ts'
import type { RuntimeAdapter, RuntimeName } from './types.ts'

export type { RuntimeAdapter, RuntimeName, ServeHandle, ServeOptions, TunnelWSEvents, RuntimeGlue } from './types.ts'
export { detectRuntime } from './detect.ts'

/**
 * Load the adapter of the running runtime only: `hono/bun` and `hono/deno` read their global at
 * import time and break elsewhere, hence the dynamic import.
 * `rootApp` is the app that receives upgrade requests (Node needs it; others ignore it).
 */
export async function loadRuntime(rootApp: () => Hono<any, any, any>, name: RuntimeName = detectRuntime()): Promise<RuntimeAdapter> {
  switch (name) {
    case 'bun':
      return (await import('./bun.ts')).createBunAdapter()
    case 'deno':
      return (await import('./deno.ts')).createDenoAdapter()
    case 'node':
      return (await import('./node.ts')).createNodeAdapter(rootApp)
  }
}
