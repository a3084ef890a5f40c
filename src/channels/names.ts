import { CHANNEL_NAME_PATTERN } from '../wire/client-schemas.js'
import type { ChannelType } from './types.js'

/** The pattern the `join`/`leave`/… schemas hold channel names to (src/wire/client-schemas.ts). */
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
