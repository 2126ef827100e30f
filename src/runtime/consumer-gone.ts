/**
 * `onGone` once `req`'s signal aborts: Bun and Deno abort a served request's signal when its
 * consumer disconnects. Returns the unsubscribe. (Deno aborts it after every successful response
 * too unless `no-legacy-abort` is on, and says so on stderr once: deno.json turns it on.)
 */
export function onSignalAborted(req: Request, onGone: () => void): () => void {
  const signal = req.signal
  if (signal.aborted) {
    queueMicrotask(onGone)
    return () => {}
  }
  signal.addEventListener('abort', onGone, { once: true })
  return () => signal.removeEventListener('abort', onGone)
}
