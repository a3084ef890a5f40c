import type { FastifyRequest } from 'fastify'

const SECRET_PARAMS = /([?&](?:token|ticket|access_token)=)[^&#]*/gi

/** The URL with credential query values replaced, safe to log. */
export function redactUrl (url: string): string {
  return url.replace(SECRET_PARAMS, '$1[REDACTED]')
}

/**
 * Route-level log serializers for the upgrade route: Fastify logs `req.url` on every request
 * ("incoming request"), which would otherwise write `?token=`/`?ticket=` values into the logs.
 */
export const upgradeLogSerializers = {
  req (request: FastifyRequest) {
    return {
      method: request.method,
      url: redactUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort
    }
  }
}
