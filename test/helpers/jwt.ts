import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import Fastify from 'fastify'
import { createSigner } from 'fast-jwt'
import type { Test } from 'tap'

export const SECRET = 'test-secret-that-is-long-enough-for-hs256'

/** An HS256 token; `expiresIn`/`notBefore` in ms as fast-jwt takes them. */
export function hsToken (claims: Record<string, unknown>, options: { secret?: string, expiresIn?: number, notBefore?: number, algorithm?: 'HS256' | 'HS384' | 'HS512' } = {}): string {
  const sign = createSigner({
    key: options.secret ?? SECRET,
    algorithm: options.algorithm ?? 'HS256',
    ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}),
    ...(options.notBefore !== undefined ? { notBefore: options.notBefore } : {})
  })
  return sign(claims)
}

/** A token with `alg: none` (no signature), which every verifier must refuse. */
export function noneToken (claims: Record<string, unknown>): string {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`
}

export interface KeyPair {
  kid: string
  alg: 'RS256' | 'ES256'
  privateKey: KeyObject
  jwk: Record<string, unknown>
}

export function keyPair (alg: 'RS256' | 'ES256'): KeyPair {
  const { privateKey, publicKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = randomUUID()
  return { kid, alg, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } }
}

export function signWith (pair: KeyPair, claims: Record<string, unknown>, options: { expiresIn?: number, kid?: string } = {}): string {
  const sign = createSigner({
    key: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    algorithm: pair.alg,
    kid: options.kid ?? pair.kid,
    ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {})
  })
  return sign(claims)
}

/**
 * A local identity provider: JWKS at /jwks.json and an OIDC discovery document at
 * /.well-known/openid-configuration; `requests` counts JWKS fetches.
 */
export async function startIdp (t: Test, keys: KeyPair[]): Promise<{ issuer: string, jwksUri: string, requests: { jwks: number, discovery: number } }> {
  const app = Fastify({ logger: false })
  const requests = { jwks: 0, discovery: 0 }
  let issuer = ''
  app.get('/jwks.json', async () => {
    requests.jwks++
    return { keys: keys.map((k) => k.jwk) }
  })
  app.get('/.well-known/openid-configuration', async () => {
    requests.discovery++
    return { issuer, jwks_uri: `${issuer}/jwks.json`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  issuer = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  return { issuer, jwksUri: `${issuer}/jwks.json`, requests }
}
