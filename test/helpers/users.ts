import type { RealtimeUser } from '../../src/index.js'
import { connect, type TestClient } from './client.js'
import { hsToken, SECRET } from './jwt.js'

/**
 * Plugin options that authenticate sockets with the real JWT driver (HS256, the shared test
 * secret). Spread into buildApp options: `buildApp(t, { ...jwtAuth, channels: … })`.
 */
export const jwtAuth = { auth: { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

/** Headers that authenticate the upgrade as `user` (every field becomes a claim). */
export function asUser (user: RealtimeUser): Record<string, string> {
  return { authorization: `Bearer ${hsToken(user)}` }
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
