/** Burrow's exit codes, the CLI's contract: scripts and supervisors rely on them. */
export const EXIT = {
  /** Done as asked, a drained shutdown included. */
  ok: 0,
  /** A failure while running (the agent gave up, the gateway could not start serving). */
  failure: 1,
  /** Bad usage or configuration: the message names the flag, variable or file and what was expected. */
  usage: 2,
} as const

/** A second SIGINT/SIGTERM during a drain exits at once with the shell's convention, 128 + signal. */
export const EXIT_ON_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const
