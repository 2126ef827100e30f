/**
 * Exponential backoff with jitter, never below half the step: a random delay in
 * [c/2, c) ms where c = min(capMs, baseMs · 2^attempt). Half the step is fixed so that repeated
 * refusals (a user at its connection limit) always wait longer and longer, never ~0 ms as full
 * jitter sometimes does; the random half still spreads agents that lost the gateway together.
 * Example: attempts 0, 1, 2 wait 0.5–1 s, 1–2 s, 2–4 s; from attempt 5 on, 15–30 s.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random, baseMs = 1000, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16))
  return Math.floor(ceiling / 2 + random() * (ceiling / 2))
}
