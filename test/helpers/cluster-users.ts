import type { Test } from 'tap'
import { connect, type TestClient } from './client.js'
import { hsToken, SECRET } from './jwt.js'

/** Plugin options: sockets authenticate with HS256 tokens signed with the shared test secret. */
export const clusterJwtAuth = { auth: { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

/** A client authenticated as `user` (bearer token), closed at teardown. */
export async function openAs (t: Test, url: string, user: { id: string, [claim: string]: unknown }): Promise<TestClient> {
  const { client } = await connect(url, { headers: { authorization: `Bearer ${hsToken(user)}` } })
  t.teardown(() => { client.close() })
  return client
}
