import type { ChannelType } from './types.js'

/**
 * Allowed channel names: letters, digits and `_-=@,.;:` (the set Pusher uses), so names are safe
 * as Redis keys and log fields. Length is bounded by the message schema.
 */
export const CHANNEL_NAME_PATTERN = '^[A-Za-z0-9_\\-=@,.;:]+$'
const NAME = new RegExp(CHANNEL_NAME_PATTERN)

export function isValidChannelName (name: string): boolean {
  return NAME.test(name)
}

/** `presence-*` and `private-*` by prefix; every other name is a public channel. */
export function channelTypeOf (name: string): ChannelType {
  if (name.startsWith('presence-')) return 'presence'
  if (name.startsWith('private-')) return 'private'
  return 'public'
}

/** The name without its `private-` / `presence-` prefix ('private-team-1' -> 'team-1'). */
export function bareName (name: string): string {
  return name.replace(/^(presence-|private-)/, '')
}

// Channel guard patterns are compiled when the options are resolved (src/options/channels.ts).
export { compileGlob, type Glob } from '../util/glob.js'
