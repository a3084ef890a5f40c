import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { createDatabase, type Db } from '../helpers/db.js'
import { startS3 } from '../helpers/s3.js'

/** s3db over the real S3 protocol (HTTP, SigV4) against a local s3rver, with the usual test resources. */
async function s3Database (t: Parameters<typeof startS3>[0], connectionString: string): Promise<Db> {
  return await createDatabase(t, {
    connectionString,
    databaseOptions: {
      forcePathStyle: true,
      // recker 1.0.56's handler breaks DELETE against real S3 servers; use the SDK's own handler.
      clientOptions: { httpClientOptions: { useReckerHandler: false } }
    }
  })
}

t.test('subscribe/insert/update/delete/list over WebSocket with s3db on a real S3 server', async (t) => {
  const s3 = await startS3(t)
  const db = await s3Database(t, s3.connectionString)
  const { client, url } = await buildApp(t, { health: true }, { db })
  const writer = await client()
  const reader = await client()
  const sub = await reader.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
  t.equal(sub.type, 'subscribed')

  const inserted = await writer.request({ type: 'insert', resource: 'messages', data: { content: 'hello s3', channel: 'general', author: 'ann' } })
  t.equal(inserted.type, 'inserted')
  const id = inserted.data.id as string
  const insertEvent = await reader.waitFor((m) => m.type === 'event' && m.event === 'insert')
  t.equal(insertEvent.data.id, id)
  t.equal(insertEvent.data.content, 'hello s3')

  const updated = await writer.request({ type: 'update', resource: 'messages', id, data: { content: 'edited' } })
  t.equal(updated.type, 'updated')
  t.equal(updated.data.content, 'edited')
  const updateEvent = await reader.waitFor((m) => m.type === 'event' && m.event === 'update')
  t.equal(updateEvent.data.content, 'edited')

  await writer.request({ type: 'insert', resource: 'messages', data: { content: 'elsewhere', channel: 'random' } })
  const listed = await writer.request({ type: 'list', resource: 'messages', filter: { channel: 'general' } })
  t.equal(listed.type, 'data')
  t.same(listed.data.map((r: { id: string }) => r.id), [id], 'list reads back from the bucket, filtered')

  const got = await writer.request({ type: 'get', resource: 'messages', id })
  t.equal(got.data.content, 'edited', 'the update is stored in S3')

  const deleted = await writer.request({ type: 'delete', resource: 'messages', id })
  t.equal(deleted.type, 'deleted')
  const deleteEvent = await reader.waitFor((m) => m.type === 'event' && m.event === 'delete')
  t.equal(deleteEvent.data.id, id)
  // (A `get` of the deleted id would also say NOT_FOUND, but s3db retries a missing key for ~7 s.)
  const after = await writer.request({ type: 'list', resource: 'messages', filter: { channel: 'general' } })
  t.same(after.data, [], 'DELETE reached the S3 server')
  t.equal(reader.ofType('event').length, 0, 'the reader saw no event for the other channel')

  const readyUrl = url.replace(/^ws:/, 'http:').replace(/\/ws$/, '/health/ready')
  const ready = await (await fetch(readyUrl)).json() as { checks: { s3db: { status: string, latency_ms: number } } }
  t.equal(ready.checks.s3db.status, 'healthy', 'the readiness round trip reaches the bucket')
  t.type(ready.checks.s3db.latency_ms, 'number')

  // Same server and credentials, a bucket that does not exist: the round trip fails at the server.
  ;(db as unknown as { client: { config: { bucket: string } } }).client.config.bucket = 'no-such-bucket'
  const response = await fetch(readyUrl)
  t.equal(response.status, 503)
  const body = await response.json() as { checks: { s3db: { status: string, error: string } } }
  t.equal(body.checks.s3db.status, 'unhealthy')
  t.type(body.checks.s3db.error, 'string')
})
