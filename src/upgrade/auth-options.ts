import type { FastifyBaseLogger } from 'fastify'
import { fail, positiveInteger, stringList } from '../options.js'
import { isPlainObject } from '../util/paths.js'
import { createApiKeyDriver } from './drivers/api-key.js'
import { createHmacDriver, createJwksDriver, KNOWN_ALGORITHMS } from './drivers/jwt.js'
import type { AuthDriver } from './types.js'

export interface ResolvedAuth {
  readonly required: boolean
  readonly drivers: readonly AuthDriver[]
}

function onlyKeys (value: Record<string, unknown>, allowed: readonly string[], name: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${name}.${key} is not a known option (expected ${allowed.join(', ')})`)
  }
}

function nonEmptyString (value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') fail(`${name} must be a non-empty string`)
  return value
}

function httpUrl (value: unknown, name: string): URL {
  const text = nonEmptyString(value, name)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail(`${name} must be an absolute http(s) URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`${name} must be an absolute http(s) URL`)
  return url
}

function audienceOf (value: unknown, name: string): string | string[] {
  return Array.isArray(value) ? stringList(value, name) : nonEmptyString(value, name)
}

function algorithmsOf (value: unknown, name: string, allowed: (alg: string) => boolean): string[] | undefined {
  if (value === undefined) return undefined
  const list = stringList(value, name)
  for (const alg of list) {
    if (!KNOWN_ALGORITHMS.includes(alg) || !allowed(alg)) fail(`${name}: algorithm "${alg}" is not allowed here`)
  }
  return list
}

function tolerance (value: unknown, name: string): number {
  return positiveInteger(value, name, 0, 0)
}

function jwtDriver (config: Record<string, unknown>, name: string, log: FastifyBaseLogger): AuthDriver {
  onlyKeys(config, ['secret', 'jwksUri', 'issuer', 'audience', 'algorithms', 'clockTolerance'], name)
  const hasSecret = config.secret !== undefined
  const hasJwks = config.jwksUri !== undefined
  if (hasSecret === hasJwks) fail(`${name} needs exactly one of "secret" (HS256) or "jwksUri" (RS256/ES256)`)
  const clockTolerance = tolerance(config.clockTolerance, `${name}.clockTolerance`)
  if (hasSecret) {
    return createHmacDriver({
      secret: nonEmptyString(config.secret, `${name}.secret`),
      ...(config.issuer !== undefined ? { issuer: nonEmptyString(config.issuer, `${name}.issuer`) } : {}),
      ...(config.audience !== undefined ? { audience: audienceOf(config.audience, `${name}.audience`) } : {}),
      ...(config.algorithms !== undefined ? { algorithms: algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => a.startsWith('HS')) as string[] } : {}),
      clockTolerance
    }, log)
  }
  const url = httpUrl(config.jwksUri, `${name}.jwksUri`)
  if (config.issuer === undefined || config.audience === undefined) fail(`${name}: "issuer" and "audience" are required with jwksUri`)
  const algorithms = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS'))
  return createJwksDriver('jwt', {
    jwks: { domain: url.origin, jwksPath: url.pathname + url.search, discovery: false },
    issuer: nonEmptyString(config.issuer, `${name}.issuer`),
    audience: audienceOf(config.audience, `${name}.audience`),
    ...(algorithms !== undefined ? { algorithms } : {}),
    clockTolerance
  }, log)
}

function oidcDriver (config: Record<string, unknown>, name: string, log: FastifyBaseLogger): AuthDriver {
  onlyKeys(config, ['issuer', 'clientId', 'algorithms', 'clockTolerance'], name)
  const issuer = httpUrl(config.issuer, `${name}.issuer`).href.replace(/\/$/, '')
  const algorithms = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS'))
  return createJwksDriver('oidc', {
    // get-jwks reads `${issuer}/.well-known/openid-configuration` and follows its jwks_uri.
    jwks: { domain: issuer, discovery: true },
    issuer: nonEmptyString(config.issuer, `${name}.issuer`),
    audience: nonEmptyString(config.clientId, `${name}.clientId`),
    ...(algorithms !== undefined ? { algorithms } : {}),
    clockTolerance: tolerance(config.clockTolerance, `${name}.clockTolerance`)
  }, log)
}

function apiKeyDriver (config: Record<string, unknown>, name: string): AuthDriver {
  onlyKeys(config, ['keys'], name)
  const keys = config.keys
  if (!isPlainObject(keys) || Object.keys(keys).length === 0) fail(`${name}.keys must be an object mapping each key to a user`)
  for (const [key, user] of Object.entries(keys)) {
    const label = `${name}.keys[${JSON.stringify(key.slice(0, 4) + '…')}]`
    if (!isPlainObject(user)) fail(`${label} must be a user object`)
    const id = user.id ?? user.sub
    if ((typeof id !== 'string' || id === '') && typeof id !== 'number') fail(`${label} needs an "id"`)
  }
  return createApiKeyDriver(keys as Record<string, Record<string, unknown>>)
}

/** Validates `auth` and builds its drivers, in the order given. */
export function resolveAuthOptions (input: unknown, log: FastifyBaseLogger): ResolvedAuth {
  if (input === undefined) return { required: false, drivers: [] }
  if (!isPlainObject(input)) fail('auth must be an object { required?, drivers? }')
  onlyKeys(input, ['required', 'drivers'], 'auth')
  const required = input.required ?? false
  if (typeof required !== 'boolean') fail('auth.required must be a boolean')
  const list = input.drivers ?? []
  if (!Array.isArray(list)) fail('auth.drivers must be an array of { driver, config }')
  const drivers = list.map((entry: unknown, index) => {
    const name = `auth.drivers[${index}]`
    if (!isPlainObject(entry)) fail(`${name} must be an object { driver, config }`)
    onlyKeys(entry, ['driver', 'config'], name)
    if (!isPlainObject(entry.config)) fail(`${name}.config must be an object`)
    const config = entry.config
    switch (entry.driver) {
      case 'jwt': return jwtDriver(config, `${name}.config`, log)
      case 'oidc': return oidcDriver(config, `${name}.config`, log)
      case 'apiKey': return apiKeyDriver(config, `${name}.config`)
      default: return fail(`${name}.driver must be "jwt", "oidc" or "apiKey"`)
    }
  })
  return { required, drivers }
}
