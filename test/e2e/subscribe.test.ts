import t from 'tap'
import { buildApp } from '../helpers/app.js'

t.test('connected, ping and a filtered subscription over a real socket', async (t) => {
  const { client, db } = await buildApp(t)
  const ws = await client()
  const pong = await ws.request({ type: 'ping' })
  t.equal(pong.type, 'pong')
  t.type(pong.timestamp, 'string')

  const sub = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
  t.equal(sub.type, 'subscribed')
  t.same(sub.filter, { channel: 'general' })
  t.same(sub.events.sort(), ['delete', 'insert', 'update'])
  t.type(sub.subscriptionId, 'string')

  await db.resources.messages!.insert({ content: 'other', channel: 'random' })
  await db.resources.messages!.insert({ id: 'm1', content: 'hello', channel: 'general' })
  const event = await ws.waitType('event')
  t.equal(event.event, 'insert')
  t.equal(event.resource, 'messages')
  t.equal(event.data.id, 'm1')
  t.equal(event.data.content, 'hello')
  t.equal(typeof event.seq, 'number')
  t.notOk(Object.keys(event.data).some((k) => k.startsWith('_') || k.startsWith('$')), 'no s3db internals')
  t.equal(ws.ofType('event').length, 0, 'the non-matching insert was not delivered')
})
