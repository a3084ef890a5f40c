import { createVerifier, type Algorithm } from 'fast-jwt'
import buildGetJwks from 'get-jwks'
import type { FastifyBaseLogger } from 'fastify'
import type { AuthDriver } from '../types.js'
import { userFromClaims } from '../user.js'

const HMAC: Algorithm[] = ['HS256', 'HS384', 'HS512']
const ASYMMETRIC: Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
export const KNOWN_ALGORITHMS: readonly string[] = [...HMAC, ...ASYMMETRIC]

type Verify = (token: string) => unknown

/** Turns a fast-jwt verifier into a driver: every failure is "not valid", logged at debug. */
function driverFrom (name: string, verify: Verify, log: FastifyBaseLogger): AuthDriver {
  return {
    name,
    async verify (token) {
      try {
        const claims = await verify(token)
        if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return null
        return userFromClaims(claims as Record<string, unknown>)
      } catch (error) {
        // Only the reason is logged, never the token.
        log.debug({ driver: name, reason: (error as { code?: string }).code ?? 'invalid' }, 'realtime: token refused')
        return null
      }
    }
  }
}

/** Configured iss/aud must also be present (fast-jwt only compares claims that exist). */
function requiredClaims (config: { issuer?: string, audience?: string | string[] }): string[] {
  return [...(config.issuer !== undefined ? ['iss'] : []), ...(config.audience !== undefined ? ['aud'] : [])]
}

/** HS256/384/512 with a shared secret. `alg: none` and asymmetric algorithms are refused. */
export function createHmacDriver (
  config: { secret: string, algorithms?: string[], issuer?: string, audience?: string | string[], clockTolerance?: number },
  log: FastifyBaseLogger
): AuthDriver {
  const verifier = createVerifier({
    key: config.secret,
    algorithms: (config.algorithms ?? HMAC) as Algorithm[],
    ...(config.issuer !== undefined ? { allowedIss: config.issuer } : {}),
    ...(config.audience !== undefined ? { allowedAud: config.audience } : {}),
    requiredClaims: requiredClaims(config),
    clockTolerance: config.clockTolerance ?? 0
  })
  return driverFrom('jwt', verifier, log)
}

/**
 * RS256/ES256 with keys looked up by `kid` (get-jwks fetches and caches them). `issuer` and
 * `audience` are always checked, so a token from another tenant of the same IdP is refused.
 */
export function createJwksDriver (
  name: string,
  config: { jwks: { domain: string, jwksPath?: string, discovery: boolean }, issuer: string, audience: string | string[], algorithms?: string[], clockTolerance?: number },
  log: FastifyBaseLogger
): AuthDriver {
  const jwks = buildGetJwks({
    providerDiscovery: config.jwks.discovery,
    ...(config.jwks.jwksPath !== undefined ? { jwksPath: config.jwks.jwksPath } : {})
  })
  const verifier = createVerifier({
    key: async (decoded: { header: { alg?: string, kid?: string } }) => await jwks.getPublicKey({
      domain: config.jwks.domain,
      ...(decoded.header.alg !== undefined ? { alg: decoded.header.alg } : {}),
      ...(decoded.header.kid !== undefined ? { kid: decoded.header.kid } : {})
    }),
    algorithms: (config.algorithms ?? ['RS256', 'ES256']) as Algorithm[],
    allowedIss: config.issuer,
    allowedAud: config.audience,
    // fast-jwt checks iss/aud only when present: a token without them must not slip through.
    requiredClaims: ['iss', 'aud'],
    clockTolerance: config.clockTolerance ?? 0
  })
  return driverFrom(name, verifier, log)
}
