import type { FastifyInstance } from 'fastify'
import { fail } from '../options.js'
import { isPlainObject } from '../util/paths.js'
import { buildAsyncApi } from './asyncapi.js'

export interface AsyncApiRouteOptions {
  /** Route serving the AsyncAPI document. @default `${path}/asyncapi.json` */
  path?: string
}

/** The route's URL, or null when the option is off; throws the coded option error when invalid. */
export function resolveAsyncApiPath (input: unknown, wsPath: string): string | null {
  if (input === undefined || input === false) return null
  const fallback = `${wsPath.replace(/\/+$/, '')}/asyncapi.json`
  if (input === true) return fallback
  if (!isPlainObject(input)) fail('asyncapi must be a boolean or { path?: string }')
  for (const name of Object.keys(input)) if (name !== 'path') fail(`asyncapi.${name} is not a known asyncapi option`)
  const path = input.path ?? fallback
  if (typeof path !== 'string' || !path.startsWith('/')) fail('asyncapi.path must be a string starting with "/"')
  if (path === wsPath) fail('asyncapi.path must differ from the WebSocket path')
  return path
}

/**
 * Optional `GET <asyncapi.path>` serving the protocol's AsyncAPI document (like @fastify/swagger
 * for REST). Off by default. A route the app already has is a coded error naming the option,
 * not Fastify's FST_ERR_DUPLICATED_ROUTE.
 */
export function installAsyncApi (fastify: FastifyInstance, input: unknown, wsPath: string): void {
  const url = resolveAsyncApiPath(input, wsPath)
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
