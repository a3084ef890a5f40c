import type { RealtimeUser } from '../types.js'

/**
 * A user from token claims: every claim is kept, `id` falls back to `sub`. A token that names
 * nobody (no `id`, no `sub`) is not an identity and is refused by the caller.
 */
export function userFromClaims (claims: Record<string, unknown>): RealtimeUser | null {
  const raw = claims.id ?? claims.sub
  if (typeof raw !== 'string' && typeof raw !== 'number') return null
  const id = String(raw)
  if (id === '') return null
  // Copy, then set: every user from the same claim names shares one hidden class. `{...claims,
  // id}` gives each its own in V8 (about 0.2 KB per connection at 10k sockets).
  const user = Object.assign({}, claims) as RealtimeUser
  user.id = id
  return user
}

/** When the user's credentials stop being valid (the JWT `exp` claim), in ms; null = never. */
export function expiryOf (user: RealtimeUser | null): number | null {
  if (user === null || typeof user.exp !== 'number' || !Number.isFinite(user.exp)) return null
  return user.exp * 1000
}
