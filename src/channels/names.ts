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

/** A compiled glob: `*` matches any run of characters (including none); nothing else is special. */
export interface Glob {
  readonly pattern: string
  /** Literal characters: more means more specific. */
  readonly specificity: number
  test (name: string): boolean
}

export function compileGlob (pattern: string): Glob {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
  const regex = new RegExp(`^${escaped.join('.*')}$`)
  return {
    pattern,
    specificity: pattern.replace(/\*/g, '').length,
    test: (name) => regex.test(name)
  }
}
