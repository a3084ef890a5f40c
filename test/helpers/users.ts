import type { FastifyInstance } from 'fastify'
import type { RealtimeUser } from '../../src/index.js'
import { connect, type TestClient } from './client.js'

/**
 * Test fixture of the upgrade contract: whoever authenticates the upgrade sets
 * `request.realtimeUser`. Here it comes from an `x-test-user` header (JSON), so channel tests do
 * not depend on a particular auth driver. Pass as buildApp's `before`.
 */
export function testUserHook (app: FastifyInstance): void {
  // preHandler runs after the route's own onRequest auth hook, which sets null for anonymous.
  app.addHook('preHandler', async (request) => {
    const header = request.headers['x-test-user']
    if (typeof header === 'string') request.realtimeUser = JSON.parse(header) as RealtimeUser
  })
}

/** Headers that make the fixture authenticate the socket as `user`. */
export function asUser (user: RealtimeUser): Record<string, string> {
  return { 'x-test-user': JSON.stringify(user) }
}

/** A TestClient that also knows its server-assigned clientId; closed at teardown. */
export async function openClient (
  t: { teardown: (fn: () => void) => void },
  url: string,
  user?: RealtimeUser
): Promise<TestClient & { id: string }> {
  const { client, connected } = await connect(url, user === undefined ? undefined : { headers: asUser(user) })
  t.teardown(() => { client.close() })
  return Object.assign(client, { id: connected.clientId as string })
}
