import type { FastifyBaseLogger } from 'fastify'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { bareName, channelTypeOf, type Glob } from './names.js'
import type { ChannelGuard, ResolvedChannelsOptions } from '../options/channels.js'
import type { ChannelType, UserInfo } from './types.js'

function forbidden (reason: string): ProtocolError {
  return new ProtocolError(ErrorCodes.FORBIDDEN, reason, { reason })
}

/**
 * Whether a guard pattern decides `channel`. A pattern that starts with a type prefix
 * (`private-*`, `presence-lobby`) is about channels of that type and is matched against the
 * full name only; matching it against the prefix-less name too would let `presence-*` judge
 * `private-presence-board`, a private channel. Other patterns (`team-*`, `*`) serve both types
 * and match the full or the prefix-less name, as documented.
 */
function patternDecides (glob: Glob, channel: string, bare: string): boolean {
  if (channelTypeOf(glob.pattern) !== 'public') return glob.test(channel)
  return glob.test(channel) || glob.test(bare)
}

/** The most specific guard whose pattern decides `channel` (see patternDecides), if any. */
export function findGuard (options: ResolvedChannelsOptions, channel: string): ChannelGuard | null {
  const bare = bareName(channel)
  let best: { specificity: number, guard: ChannelGuard } | null = null
  for (const { glob, guard } of options.guards) {
    if (!patternDecides(glob, channel, bare)) continue
    if (best === null || glob.specificity > best.specificity) best = { specificity: glob.specificity, guard }
  }
  return best?.guard ?? null
}

/**
 * Public channels admit anyone. Private and presence channels need an authenticated user, then
 * the matching guard (if any) must allow. A guard that throws denies and is logged; its
 * message never reaches the client.
 */
export async function authorizeJoin (
  options: ResolvedChannelsOptions,
  channel: string,
  type: ChannelType,
  user: RealtimeUser | null,
  userInfo: UserInfo,
  log: FastifyBaseLogger
): Promise<void> {
  if (type === 'public') return
  if (user === null) throw forbidden(`Authentication required to join ${type} channels`)
  const guard = findGuard(options, channel)
  if (guard === null) return
  let result: unknown
  try {
    result = await guard(user, channel, userInfo)
  } catch (error) {
    log.warn({ err: error, channel }, 'realtime: channel guard threw; join denied')
    throw forbidden('Access denied')
  }
  if (result === true) return
  if (isPlainObject(result) && result.authorized === true) return
  const reason = isPlainObject(result) && typeof result.reason === 'string' && result.reason !== '' ? result.reason : 'Access denied'
  throw forbidden(reason)
}
