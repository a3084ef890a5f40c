import t from 'tap'
import { buildApp } from '../helpers/app.js'

// Regression (seen in the demo): s3db's timestamp bookkeeping reached clients, differently per
// path: `metadata: {updatedAt}` in update replies and events, `metadata_updatedat` in reads and
// CONFLICT details (in events an older value than `updatedAt`).
t.test('no s3db timestamp bookkeeping in replies, events, reads or CONFLICT details', async (t) => {
  const { client, db } = await buildApp(t) // messages: timestamps: true
  await db.resources.messages!.insert({ id: 'm1', content: 'a', channel: 'c' })
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'messages' })
  const read = await ws.request({ type: 'get', resource: 'messages', id: 'm1' })
  const updated = await ws.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'b' } })
  const event = await ws.waitType('event')
  const reread = await ws.request({ type: 'get', resource: 'messages', id: 'm1' })
  const list = await ws.request({ type: 'list', resource: 'messages' })
  const conflict = await ws.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'c' }, ifVersion: read.version })
  t.equal(conflict.code, 'CONFLICT')
  for (const [what, record] of [['reply', updated.data], ['event', event.data], ['get', reread.data], ['list', list.data[0]], ['CONFLICT details', conflict.details.data]] as const) {
    t.same(Object.keys(record).sort(), ['channel', 'content', 'createdAt', 'id', 'updatedAt'], what)
  }
  t.equal(updated.version, reread.version, 'the reply and a read of the same state give one version')
})
