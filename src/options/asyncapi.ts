import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail } from './validate.js'

export interface AsyncApiRouteOptions {
  /** Route serving the AsyncAPI document. @default ${path}/asyncapi.json */
  path?: string
}

/** The route's URL, or null when the option is off; throws the coded option error when invalid. */
export function resolveAsyncApi (input: unknown, wsPath: string): string | null {
  const given = input === undefined ? DEFAULTS.core.asyncapi : input
  if (given === false) return null
  const fallback = DEFAULTS.asyncapi.path.of(wsPath)
  if (given === true) return fallback
  if (!isPlainObject(given)) fail('asyncapi must be a boolean or { path?: string }')
  for (const name of Object.keys(given)) if (name !== 'path') fail(`asyncapi.${name} is not a known asyncapi option`)
  const path = given.path ?? fallback
  if (typeof path !== 'string' || !path.startsWith('/')) fail('asyncapi.path must be a string starting with "/"')
  if (path === wsPath) fail('asyncapi.path must differ from the WebSocket path')
  return path
}
