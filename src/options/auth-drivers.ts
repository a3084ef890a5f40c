import { KeyObject } from 'node:crypto'
import type { RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { algorithmsForKey, defaultAlgorithmFor, KNOWN_ALGORITHMS, looksLikeKeyMaterial, publicKeyFrom } from '../util/jwt-keys.js'
import { DEFAULTS } from './defaults.js'
import { fail, httpUrl, nonEmptyString, onlyKeys, positiveInteger, stringList } from './validate.js'

/** `jwt` driver: exactly one of `secret` (HS*), `publicKey` (RS/PS/ES/EdDSA) or `jwksUri` (keys by `kid`). */
export interface JwtDriverConfig {
  /**
   * Shared secret for HS256/HS384/HS512 (a string, or a KeyObject of type 'secret'). Key material
   * (PEM, JWK, DER, OpenSSH, an asymmetric KeyObject) is refused: use `publicKey` for it.
   */
  secret?: string | KeyObject
  /** A static public key (PEM string or KeyObject) for RS/PS/ES/EdDSA tokens. */
  publicKey?: string | KeyObject
  /** JWKS endpoint: keys are fetched by `kid`, cached, and refetched at most every 30 s. */
  jwksUri?: string
  /** Required `iss` (mandatory with `jwksUri`). */
  issuer?: string
  /** Required `aud` (mandatory with `jwksUri`). */
  audience?: string | string[]
  /**
   * Accepted algorithms; a token whose header names another is refused before any key work.
   * Without it: HS256/384/512 with secret; from the key with publicKey (RSA: RS256, EC:
   * ES256/384/512 by curve, Ed25519/Ed448: EdDSA); every RS/PS/ES/EdDSA with jwksUri.
   */
  algorithms?: string[]
  /** Clock skew tolerated on `exp`/`nbf`, ms. @default 0 */
  clockTolerance?: number
}

/** `oidc` driver: keys discovered from `${issuer}/.well-known/openid-configuration`. */
export interface OidcDriverConfig {
  issuer: string
  /** Expected audience (`aud`). */
  clientId: string
  /** Without it: every RS/PS/ES/EdDSA algorithm (never HS* or none). */
  algorithms?: string[]
  /** @default 0 */
  clockTolerance?: number
}

/** `apiKey` driver: key -> user. Keys are compared in constant time. */
export interface ApiKeyDriverConfig {
  keys: Record<string, Partial<RealtimeUser> & Record<string, unknown>>
}

export type AuthDriverOptions =
  | { driver: 'jwt', config: JwtDriverConfig }
  | { driver: 'oidc', config: OidcDriverConfig }
  | { driver: 'apiKey', config: ApiKeyDriverConfig }

/** Claims every jwt/oidc driver checks, whatever its key. */
export interface ClaimChecks {
  issuer?: string
  audience?: string | string[]
  clockTolerance?: number
}

/**
 * A validated `auth.drivers` entry: what to build (src/upgrade/auth-drivers.ts builds it).
 * Keys are already parsed and checked against their algorithms.
 */
export type AuthDriverSpec =
  | { readonly kind: 'hmac', readonly secret: string | Buffer, readonly algorithms: string[], readonly claims: ClaimChecks }
  | { readonly kind: 'publicKey', readonly publicKey: KeyObject, readonly algorithms: string[], readonly claims: ClaimChecks }
  | {
    readonly kind: 'jwks'
    /** 'jwt' (a given jwksUri) or 'oidc' (discovered from the issuer). */
    readonly name: 'jwt' | 'oidc'
    readonly jwksUri: string | null
    readonly issuer: string
    readonly audience: string | string[]
    readonly algorithms: string[]
    readonly clockTolerance: number
  }
  | { readonly kind: 'apiKey', readonly keys: Record<string, Record<string, unknown>> }

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
  return positiveInteger(value, name, DEFAULTS.authDriver.clockTolerance, 0)
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

function publicKeySpec (config: Record<string, unknown>, name: string, claims: ClaimChecks): AuthDriverSpec {
  const key = publicKeyFrom(config.publicKey)
  if (typeof key === 'string') fail(`${name}.publicKey ${key}`)
  const usable = algorithmsForKey(key)
  if (usable === null) fail(`${name}.publicKey: ${key.asymmetricKeyType ?? 'this'} keys are not supported (use RSA, EC P-256/384/521, Ed25519 or Ed448)`)
  const given = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS'))
  for (const alg of given ?? []) {
    if (!usable.includes(alg)) fail(`${name}.algorithms: "${alg}" cannot be verified with this ${key.asymmetricKeyType ?? ''} key (it supports ${usable.join(', ')})`)
  }
  return { kind: 'publicKey', publicKey: key, algorithms: given ?? [defaultAlgorithmFor(key) as string], claims }
}

function jwtSpec (config: Record<string, unknown>, name: string): AuthDriverSpec {
  onlyKeys(config, name, ['secret', 'publicKey', 'jwksUri', 'issuer', 'audience', 'algorithms', 'clockTolerance'], 'option', true)
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
    return { kind: 'hmac', secret: hmacSecret(config.secret, `${name}.secret`), algorithms: algorithms ?? [...DEFAULTS.authDriver.hmacAlgorithms], claims }
  }
  if (config.publicKey !== undefined) return publicKeySpec(config, name, claims)
  const url = httpUrl(config.jwksUri, `${name}.jwksUri`)
  if (claims.issuer === undefined || claims.audience === undefined) fail(`${name}: "issuer" and "audience" are required with jwksUri`)
  // Never HS* or none from a key set: only the asymmetric family.
  const algorithms = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS')) ?? [...DEFAULTS.authDriver.jwksAlgorithms]
  return { kind: 'jwks', name: 'jwt', jwksUri: url.href, issuer: claims.issuer, audience: claims.audience, algorithms, clockTolerance: claims.clockTolerance as number }
}

function oidcSpec (config: Record<string, unknown>, name: string): AuthDriverSpec {
  onlyKeys(config, name, ['issuer', 'clientId', 'algorithms', 'clockTolerance'], 'option', true)
  httpUrl(config.issuer, `${name}.issuer`)
  const algorithms = algorithmsOf(config.algorithms, `${name}.algorithms`, (a) => !a.startsWith('HS')) ?? [...DEFAULTS.authDriver.jwksAlgorithms]
  // The discovery document (`${issuer}/.well-known/openid-configuration`) names the jwks_uri.
  return {
    kind: 'jwks',
    name: 'oidc',
    jwksUri: null,
    issuer: nonEmptyString(config.issuer, `${name}.issuer`),
    audience: nonEmptyString(config.clientId, `${name}.clientId`),
    algorithms,
    clockTolerance: tolerance(config.clockTolerance, `${name}.clockTolerance`)
  }
}

function apiKeySpec (config: Record<string, unknown>, name: string): AuthDriverSpec {
  onlyKeys(config, name, ['keys'], 'option', true)
  const keys = config.keys
  if (!isPlainObject(keys) || Object.keys(keys).length === 0) fail(`${name}.keys must be an object mapping each key to a user`)
  for (const [key, user] of Object.entries(keys)) {
    const label = `${name}.keys[${JSON.stringify(key.slice(0, 4) + '…')}]`
    if (!isPlainObject(user)) fail(`${label} must be a user object`)
    const id = user.id ?? user.sub
    if ((typeof id !== 'string' || id === '') && typeof id !== 'number') fail(`${label} needs an "id"`)
  }
  return { kind: 'apiKey', keys: keys as Record<string, Record<string, unknown>> }
}

/** `auth.drivers`, validated in the order given. */
export function resolveDriverList (input: Record<string, unknown>): AuthDriverSpec[] {
  const list = input.drivers ?? DEFAULTS.auth.drivers
  if (!Array.isArray(list)) fail('auth.drivers must be an array of { driver, config }')
  return list.map((entry: unknown, index) => {
    const name = `auth.drivers[${index}]`
    if (!isPlainObject(entry)) fail(`${name} must be an object { driver, config }`)
    onlyKeys(entry, name, ['driver', 'config'], 'option', true)
    if (!isPlainObject(entry.config)) fail(`${name}.config must be an object`)
    const config = entry.config
    switch (entry.driver) {
      case 'jwt': return jwtSpec(config, `${name}.config`)
      case 'oidc': return oidcSpec(config, `${name}.config`)
      case 'apiKey': return apiKeySpec(config, `${name}.config`)
      default: return fail(`${name}.driver must be "jwt", "oidc" or "apiKey"`)
    }
  })
}
