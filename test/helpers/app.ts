import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import s3dbRealtime, { type RealtimeOptions } from '../../src/index.js'
import { connect, type TestClient } from './client.js'
import { createDatabase, type Db } from './db.js'

export interface TestApp {
  app: FastifyInstance
  db: Db
  url: string
  /** Opens a client that is closed at teardown. */
  client: (query?: string, headers?: Record<string, string>) => Promise<TestClient>
}

/** Fastify + s3db-realtime on a free port, closed at teardown. */
export async function buildApp (
  t: Test,
  options: Partial<RealtimeOptions> = {},
  setup?: { db?: Db, before?: (app: FastifyInstance) => Promise<void> | void }
): Promise<TestApp> {
  const db = setup?.db ?? await createDatabase(t)
  const app = Fastify({ logger: false })
  await setup?.before?.(app)
  await app.register(s3dbRealtime, { database: db, resources: { messages: true, users: { protected: ['password'] } }, ...options })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const address = app.server.address() as { port: number }
  const path = options.path ?? '/ws'
  const url = `ws://127.0.0.1:${address.port}${path}`
  const clients: TestClient[] = []
  t.teardown(() => { for (const c of clients) c.close() })
  return {
    app,
    db,
    url,
    client: async (query = '', headers) => {
      const { client } = await connect(url + query, headers === undefined ? undefined : { headers })
      clients.push(client)
      return client
    }
  }
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
