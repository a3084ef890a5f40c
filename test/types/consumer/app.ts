// A TypeScript-strict consumer of the packed package: it must type-check against what ships
// (dist/*.d.ts), with the Fastify augmentation coming from the package entry alone.
import Fastify from 'fastify'
import s3dbRealtime, { type RealtimeApi, type RealtimeOptions } from 's3db-realtime'
import { RealtimeClient } from 's3db-realtime/client'

export async function start (database: RealtimeOptions['database']): Promise<void> {
  const app = Fastify()
  await app.register(s3dbRealtime, { database, resources: { messages: true } })
  const api: RealtimeApi = app.realtime
  const sent: number = app.realtime.broadcast({ type: 'announcement' }, (client) => client.user?.role === 'admin')
  app.realtime.on('client.connected', ({ clientId, user }) => { app.log.info({ clientId, user, sent }) })
  app.get('/me', async (request) => ({ user: request.realtimeUser?.id ?? null, clients: api.getClients().length }))
  // @ts-expect-error internals are not part of the public type
  app.realtime.publishChange({ resource: 'messages', type: 'insert', id: 'x', before: null, after: {} })
  // @ts-expect-error only documented events can be listened to
  app.realtime.on('change', () => {})
  const client = new RealtimeClient({ url: 'ws://localhost:3000/ws' })
  void client
}
