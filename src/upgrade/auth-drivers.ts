import { KeyObject } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { fail, positiveInteger, stringList } from '../options.js'
import { isPlainObject } from '../util/paths.js'
import { createApiKeyDriver } from './drivers/api-key.js'
import { createHmacDriver, createJwksDriver, createPublicKeyDriver, type ClaimChecks } from './drivers/jwt.js'
import { algorithmsForKey, ASYMMETRIC_ALGORITHMS, defaultAlgorithmFor, KNOWN_ALGORITHMS, looksLikeKeyMaterial, publicKeyFrom } from '../util/jwt-keys.js'
import type { ResolvedFastifyJwt } from './fastify-jwt.js'
import type { AuthDriver, AuthOptions } from './types.js'

export interface ResolvedAuth {
  readonly required: boolean
  readonly drivers: readonly AuthDriver[]
  /** The app's @fastify/jwt (`auth.jwt`), checked against the instance in setupUpgrade. */
  readonly jwt: ResolvedFastifyJwt | null
  readonly authenticate: NonNullable<AuthOptions['authenticate']> | null
  /** `required` sockets without credentials may authenticate with their first message. */
  readonly inBand: boolean
  readonly handshakeTimeout: number
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
  if (list.length === 0) fail(`${name} must list at least one algorithm`)
  for (const alg of list) {
    if (!KNOWN_ALGORITHMS.includes(alg) || !allowed(alg)) fail(`${name}: algorithm "${alg}" is not allowed here`)
  }
  return list
}

function tolerance (value: unknown, name: string): number {
  return positiveInteger(value, name, 0, 0)
}

/**
 * An HMAC secret must be a secret: key material (PEM, JWK, DER, OpenSSH, an asymmetric
 * KeyObject) is often public, and HS256 keyed with public text lets anyone forge tokens.
 */
function hmacSecret (value: unknown, name: string): string | Buffer {
  if (value instanceof KeyObject) {
    if (value.type !== 'secret') fail(`${name} is an asymmetric ${value.type} key: give the public key as "publicKey" (RS/ES/EdDSA), never as an HMAC secret`)
    return value.export()
  }
  const secret = nonEmptyString(value, name)
  if (looksLikeKeyMaterial(secret)) {
    fail(`${name} looks like key material (PEM, JWK, DER or OpenSSH), not an HMAC secret: give a public key as "publicKey" (RS/ES/EdDSA)`)
  }
  return secret
}

function publicKeyDriver (config: Record<string, unknown>, name: string, claims: ClaimChecks, log: FastifyBaseLogger): AuthDriver {
  const key = publicKeyFrom(config.publicKey)
  if (typeof key === 'string') fail(`${name}.publicKey ${key}`)
  const usable = algorithmsForKey(key)
  if (usable === null) fail(`${name}.publicKey: ${key.asymmetricKeyType ?? 'this'} keys are not supported (use RSA, EC P-256/384/521, Ed25519 or Ed448)`)
  const given = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS'))
  for (const alg of given ?? []) {
    if (!usable.includes(alg)) fail(`${name}.algorithms: "${alg}" cannot be verified with this ${key.asymmetricKeyType ?? ''} key (it supports ${usable.join(', ')})`)
  }
  return createPublicKeyDriver({ publicKey: key, algorithms: given ?? [defaultAlgorithmFor(key) as string], ...claims }, log)
}

function jwtDriver (config: Record<string, unknown>, name: string, log: FastifyBaseLogger): AuthDriver {
  onlyKeys(config, ['secret', 'publicKey', 'jwksUri', 'issuer', 'audience', 'algorithms', 'clockTolerance'], name)
  const sources = ['secret', 'publicKey', 'jwksUri'].filter((key) => config[key] !== undefined)
  if (sources.length !== 1) {
    fail(`${name} needs exactly one of "secret" (HS256), "publicKey" (RS/ES/EdDSA) or "jwksUri" (keys by kid)${sources.length > 1 ? `, got ${sources.join(' and ')}` : ''}`)
  }
  const claims: ClaimChecks = {
    ...(config.issuer !== undefined ? { issuer: nonEmptyString(config.issuer, `${name}.issuer`) } : {}),
    ...(config.audience !== undefined ? { audience: audienceOf(config.audience, `${name}.audience`) } : {}),
    clockTolerance: tolerance(config.clockTolerance, `${name}.clockTolerance`)
  }
  if (config.secret !== undefined) {
    const algorithms = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => a.startsWith('HS'))
    return createHmacDriver({ secret: hmacSecret(config.secret, `${name}.secret`), ...(algorithms !== undefined ? { algorithms } : {}), ...claims }, log)
  }
  if (config.publicKey !== undefined) return publicKeyDriver(config, name, claims, log)
  const url = httpUrl(config.jwksUri, `${name}.jwksUri`)
  if (claims.issuer === undefined || claims.audience === undefined) fail(`${name}: "issuer" and "audience" are required with jwksUri`)
  // Never HS* or none from a key set: only the asymmetric family.
  const algorithms = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS')) ?? [...ASYMMETRIC_ALGORITHMS]
  return createJwksDriver('jwt', { jwksUri: url.href, ...claims, issuer: claims.issuer, audience: claims.audience, algorithms }, log)
}

function oidcDriver (config: Record<string, unknown>, name: string, log: FastifyBaseLogger): AuthDriver {
  onlyKeys(config, ['issuer', 'clientId', 'algorithms', 'clockTolerance'], name)
  httpUrl(config.issuer, `${name}.issuer`)
  const algorithms = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS')) ?? [...ASYMMETRIC_ALGORITHMS]
  // The discovery document (`${issuer}/.well-known/openid-configuration`) names the jwks_uri.
  return createJwksDriver('oidc', {
    jwksUri: null,
    issuer: nonEmptyString(config.issuer, `${name}.issuer`),
    audience: nonEmptyString(config.clientId, `${name}.clientId`),
    algorithms,
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

function fastifyJwtOption (value: unknown): ResolvedFastifyJwt | null {
  if (value === undefined || value === false) return null
  if (value === 'fastify' || value === true) return { method: 'jwtVerify', namespace: null }
  if (!isPlainObject(value)) fail('auth.jwt must be \'fastify\' or { namespace?, jwtVerify? } (the app\'s @fastify/jwt)')
  onlyKeys(value, ['namespace', 'jwtVerify'], 'auth.jwt')
  const namespace = value.namespace === undefined ? null : nonEmptyString(value.namespace, 'auth.jwt.namespace')
  const method = value.jwtVerify === undefined
    ? namespace === null ? 'jwtVerify' : `${namespace}JwtVerify`
    : nonEmptyString(value.jwtVerify, 'auth.jwt.jwtVerify')
  return { method, namespace }
}

function driverList (input: Record<string, unknown>, log: FastifyBaseLogger): AuthDriver[] {
  const list = input.drivers ?? []
  if (!Array.isArray(list)) fail('auth.drivers must be an array of { driver, config }')
  return list.map((entry: unknown, index) => {
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
}

const AUTH_KEYS = ['required', 'jwt', 'authenticate', 'inBand', 'handshakeTimeout', 'drivers']

/** Validates `auth` and builds its drivers, in the order given. */
export function resolveAuthOptions (input: unknown, log: FastifyBaseLogger): ResolvedAuth {
  const none: ResolvedAuth = { required: false, drivers: [], jwt: null, authenticate: null, inBand: false, handshakeTimeout: 10_000 }
  if (input === undefined) return none
  if (!isPlainObject(input)) fail('auth must be an object { required?, jwt?, authenticate?, inBand?, handshakeTimeout?, drivers? }')
  onlyKeys(input, AUTH_KEYS, 'auth')
  const required = input.required ?? false
  if (typeof required !== 'boolean') fail('auth.required must be a boolean')
  const jwt = fastifyJwtOption(input.jwt)
  const authenticate = input.authenticate ?? null
  if (authenticate !== null && typeof authenticate !== 'function') fail('auth.authenticate must be a function (request, reply) => user | null')
  const drivers = driverList(input, log)
  // One source of truth per credential: two verifiers for the same token would disagree on users.
  if (jwt !== null && authenticate !== null) fail('auth.jwt and auth.authenticate are alternatives: give one')
  if (jwt !== null && drivers.length > 0) fail('auth.jwt and auth.drivers both verify tokens: give one (auth.jwt uses the app\'s @fastify/jwt)')
  const inBand = input.inBand ?? false
  if (typeof inBand !== 'boolean') fail('auth.inBand must be a boolean')
  if (input.handshakeTimeout !== undefined && !inBand) fail('auth.handshakeTimeout only applies with auth.inBand: true')
  const handshakeTimeout = positiveInteger(input.handshakeTimeout, 'auth.handshakeTimeout', 10_000)
  return { required, drivers, jwt, authenticate: authenticate as ResolvedAuth['authenticate'], inBand, handshakeTimeout }
}
