import type { FastifyBaseLogger } from 'fastify'
import type { AuthDriverSpec, ResolvedAuth } from '../options/auth.js'
import { createApiKeyDriver } from './drivers/api-key.js'
import { createHmacDriver, createJwksDriver, createPublicKeyDriver } from './drivers/jwt.js'
import type { AuthDriver } from './types.js'

/** `auth` with its drivers built: what the upgrade hook and the `auth` message verify with. */
export interface UpgradeAuth extends Omit<ResolvedAuth, 'drivers'> {
  readonly drivers: readonly AuthDriver[]
}

function buildDriver (spec: AuthDriverSpec, log: FastifyBaseLogger): AuthDriver {
  switch (spec.kind) {
    case 'hmac': return createHmacDriver({ secret: spec.secret, algorithms: spec.algorithms, ...spec.claims }, log)
    case 'publicKey': return createPublicKeyDriver({ publicKey: spec.publicKey, algorithms: spec.algorithms, ...spec.claims }, log)
    case 'jwks': {
      const { kind: _kind, name, ...config } = spec
      return createJwksDriver(name, config, log)
    }
    case 'apiKey': return createApiKeyDriver(spec.keys)
  }
}

/** Builds the drivers `auth.drivers` describes (validated by src/options/auth.ts), in order. */
export function buildAuth (auth: ResolvedAuth, log: FastifyBaseLogger): UpgradeAuth {
  return { ...auth, drivers: auth.drivers.map((spec) => buildDriver(spec, log)) }
}
