import { createHash, timingSafeEqual } from 'node:crypto'
import type { AuthDriver } from '../types.js'
import { identify, invalid } from '../user.js'

function digest (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/**
 * Keys are hashed to equal-length digests and every configured key is compared with
 * timingSafeEqual (no early exit), so response time says nothing about how close a guess was.
 */
export function createApiKeyDriver (keys: Record<string, Record<string, unknown>>): AuthDriver {
  const entries = Object.entries(keys).map(([key, user]) => ({ digest: digest(key), user }))
  return {
    name: 'apiKey',
    async verify (token) {
      const candidate = digest(token)
      let found: Record<string, unknown> | null = null
      for (const entry of entries) {
        if (timingSafeEqual(candidate, entry.digest)) found = entry.user
      }
      // A copy, so one connection's user object is never shared with (or changed by) another.
      return found === null ? invalid() : identify({ ...found })
    }
  }
}
