import { randomUUID } from 'node:crypto'
import { Database } from 's3db.js'
import type { Test } from 'tap'

export type Db = InstanceType<typeof Database>

/** A fresh in-memory s3db with the two resources most tests use. */
export async function createDatabase (
  t: Test,
  options: { resources?: boolean, connectionString?: string, databaseOptions?: Record<string, unknown> } = {}
): Promise<Db> {
  // Same connectionString = same bucket: several instances of one app (cluster tests).
  const connectionString = options.connectionString ?? `memory://test-${randomUUID()}/db`
  const db = new Database({ connectionString, logLevel: 'silent', ...options.databaseOptions } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  if (options.resources !== false) {
    await db.createResource({
      name: 'messages',
      attributes: { content: 'string|required', channel: 'string|required', author: 'string|optional', meta: { kind: 'string|optional', secret: 'string|optional' } },
      timestamps: true,
      paranoid: false,
      partitions: { byChannel: { fields: { channel: 'string' } } }
    } as Parameters<Db['createResource']>[0])
    await db.createResource({
      name: 'users',
      attributes: { name: 'string|required', email: 'string|optional', password: 'string|optional', role: 'string|optional', tenantId: 'string|optional' }
    } as Parameters<Db['createResource']>[0])
  }
  t.teardown(async () => { await db.disconnect() })
  return db
}
