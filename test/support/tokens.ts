import { signToken } from '../../src/auth/tokens.ts'
import { TEST_SECRET } from './processes.ts'

/** A token for `user` signed with the test gateway's secret. */
export function tokenFor(user: string, ttlSeconds = 3600): Promise<string> {
  return signToken(TEST_SECRET, user, ttlSeconds)
}
