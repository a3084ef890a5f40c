import type { Test } from 'tap'
import { buildApp, type TestApp } from './app.js'
import { connect, type TestClient } from './client.js'
import { createDatabase, type Db } from './db.js'
import { hsToken, SECRET } from './jwt.js'
import type { RealtimeOptions } from '../../src/index.js'

type CreateResource = Parameters<Db['createResource']>[0]

/** A memory s3db with extra resources for the seed's Examples. */
export async function exampleDatabase (t: Test, resources: Array<Record<string, unknown>>): Promise<Db> {
  const db = await createDatabase(t)
  for (const definition of resources) await db.createResource(definition as unknown as CreateResource)
  return db
}

/** The app with JWT auth required; `as(claims)` opens a socket authenticated with those claims. */
export async function exampleApp (
  t: Test, db: Db, options: Partial<RealtimeOptions>
): Promise<TestApp & { as: (claims: Record<string, unknown> | null) => Promise<TestClient> }> {
  const app = await buildApp(t, { auth: { drivers: [{ driver: 'jwt', config: { secret: SECRET } }] }, ...options }, { db })
  const as = async (claims: Record<string, unknown> | null): Promise<TestClient> => {
    const { client } = await connect(claims === null ? app.url : `${app.url}?token=${hsToken(claims)}`)
    t.teardown(() => { client.close() })
    return client
  }
  return { ...app, as }
}

/** Ids of records in a `data` reply. */
export function ids (reply: Record<string, any>): string[] {
  return (reply.data as Array<{ id: string }>).map((r) => r.id).sort()
}
