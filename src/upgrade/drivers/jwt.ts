import type { KeyObject } from 'node:crypto'
import { createVerifier, type Algorithm, type VerifierOptions } from 'fast-jwt'
import type { FastifyBaseLogger } from 'fastify'
import type { AuthDriver, Verified } from '../types.js'
import { identify, invalid } from '../user.js'
import { JwksSource } from './jwks.js'
import { readHeader, type JwtHeader } from './jwt-header.js'
import { HMAC_ALGORITHMS, pemOf } from '../../util/jwt-keys.js'

type Verify = (token: string) => unknown

/** Claims every jwt/oidc driver checks, whatever its key. */
export interface ClaimChecks {
  issuer?: string
  audience?: string | string[]
  clockTolerance?: number
}

function claimOptions (config: ClaimChecks): VerifierOptions {
  return {
    ...(config.issuer !== undefined ? { allowedIss: config.issuer } : {}),
    ...(config.audience !== undefined ? { allowedAud: config.audience } : {}),
    // fast-jwt compares iss/aud only when present: a token without them must not slip through.
    requiredClaims: [...(config.issuer !== undefined ? ['iss'] : []), ...(config.audience !== undefined ? ['aud'] : [])],
    clockTolerance: config.clockTolerance ?? 0
  }
}

/** A fast-jwt verifier for one fixed key (a secret or a public key PEM). */
function staticVerifier (key: string | Buffer, algorithms: readonly string[], claims: ClaimChecks): Verify {
  return createVerifier({ key, algorithms: [...algorithms] as Algorithm[], ...claimOptions(claims) })
}

/**
 * The shared shape of every jwt/oidc driver: read the header, refuse an algorithm outside
 * `algorithms` before any key is touched, find the verifier, verify. Every failure is "not
 * valid", logged at debug with its reason only (never the token).
 */
function tokenDriver (
  name: string,
  algorithms: readonly string[],
  verifierFor: (header: JwtHeader) => Verify | null | Promise<Verify | null>,
  log: FastifyBaseLogger
): AuthDriver {
  const refuse = (reason: string): Verified => {
    log.debug({ driver: name, reason }, 'realtime: token refused')
    return invalid()
  }
  return {
    name,
    async verify (token): Promise<Verified> {
      const header = readHeader(token)
      if (header === null) return refuse('malformed header')
      if (!algorithms.includes(header.alg)) return refuse('algorithm not allowed')
      try {
        const verify = await verifierFor(header)
        if (verify === null) return refuse('no key for the token')
        const claims = verify(token)
        if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return refuse('claims')
        return identify(claims)
      } catch (error) {
        return refuse((error as { code?: string }).code ?? 'invalid')
      }
    }
  }
}

/** HS256/384/512 with a shared secret (validated at register: never key material). */
export function createHmacDriver (
  config: ClaimChecks & { secret: string | Buffer, algorithms?: string[] },
  log: FastifyBaseLogger
): AuthDriver {
  const algorithms = config.algorithms ?? HMAC_ALGORITHMS
  const verify = staticVerifier(config.secret, algorithms, config)
  return tokenDriver('jwt', algorithms, () => verify, log)
}

/** RS/PS/ES/EdDSA with one static public key; `algorithms` were checked against the key at register. */
export function createPublicKeyDriver (
  config: ClaimChecks & { publicKey: KeyObject, algorithms: string[] },
  log: FastifyBaseLogger
): AuthDriver {
  const verify = staticVerifier(pemOf(config.publicKey), config.algorithms, config)
  return tokenDriver('jwt', config.algorithms, () => verify, log)
}

/**
 * Keys looked up by `kid` in a JWKS (given, or discovered from an OIDC issuer). `issuer` and
 * `audience` are always checked, so a token from another tenant of the same IdP is refused. A
 * token without a kid, or with an algorithm outside `algorithms`, is refused before any fetch.
 */
export function createJwksDriver (
  name: string,
  config: ClaimChecks & { jwksUri: string | null, issuer: string, audience: string | string[], algorithms: string[] },
  log: FastifyBaseLogger
): AuthDriver {
  const source = new JwksSource<Verify>({
    jwksUri: config.jwksUri,
    issuer: config.issuer,
    algorithms: config.algorithms,
    log,
    build: (pem, algorithms) => staticVerifier(pem, algorithms, config)
  })
  return tokenDriver(name, config.algorithms, async (header) => header.kid === null ? null : await source.keyFor(header.kid, header.alg), log)
}
