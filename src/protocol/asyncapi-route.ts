import type { FastifyInstance } from 'fastify'
import { fail } from '../options/validate.js'
import { buildAsyncApi } from './asyncapi.js'

/**
 * Optional `GET <asyncapi.path>` serving the protocol's AsyncAPI document (like @fastify/swagger
 * for REST). `url` is the resolved option (src/options/asyncapi.ts): null when off, the default.
 * A route the app already has is a coded error naming the option, not Fastify's
 * FST_ERR_DUPLICATED_ROUTE.
 */
export function installAsyncApi (fastify: FastifyInstance, url: string | null, wsPath: string): void {
  if (url === null) return
  if (fastify.hasRoute({ method: 'GET', url })) fail(`asyncapi.path "${url}" is already a route of the app: choose another asyncapi.path`)
  const document = buildAsyncApi({ path: wsPath })
  fastify.get(url, async (request, reply) => {
    // The server entry names the host the document was fetched from, so tools can connect.
    const host = typeof request.host === 'string' && request.host !== '' ? request.host : null
    const servers = host === null
      ? document.servers
      : { default: { host, protocol: request.protocol === 'https' ? 'wss' : 'ws', description: 'This server' } }
    return await reply.type('application/json; charset=utf-8').send({ ...document, servers })
  })
}
