import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { buildApp, type TestApp } from './app.js'
import { createDatabase } from './db.js'

/** Two instances of one app sharing one bucket; `options` gets each one's node id ('a', 'b'). */
export async function twoNodes (t: Test, options: (nodeId: string) => Record<string, unknown>): Promise<[TestApp, TestApp]> {
  const bucket = `memory://cluster-${randomUUID()}/db`
  const a = await buildApp(t, options('a'), { db: await createDatabase(t, { connectionString: bucket }) })
  const b = await buildApp(t, options('b'), { db: await createDatabase(t, { connectionString: bucket }) })
  return [a, b]
}
