import t from 'tap'
import { createClient, type SubscriptionEvent } from '../../src/client/index.js'
import { buildApp } from '../helpers/app.js'

interface Message { content: string, channel: string, author?: string }
type Records = { messages: Message }
type Event = SubscriptionEvent<Message & { id: string }>

/** What a handler saw, compactly: `insert:id`, `update:id`, `update:id:left`. */
function seen (events: Event[]): string[] {
  return events.map((e) => 'data' in e && !Array.isArray(e.data) ? `${e.event}:${e.data.id}${e.event === 'update' && e.left === true ? ':left' : ''}` : e.event)
}

t.test('operator subscriptions on one connection: the client routes each event as the server matched it', async (t) => {
  const { url, db } = await buildApp(t)
  const messages = db.resources.messages!
  const client = createClient<Records>({ url, requestTimeout: 5000 })
  t.teardown(() => { client.close() })
  // One socket, two subscriptions: the server sends each event once and the client decides
  // which handler gets it, so an equality-only matcher would drop these inserts.
  const byChannel: Event[] = []
  const byContent: Event[] = []
  await client.subscribe('messages', { filter: { channel: { $in: ['a', 'b'] } } }, (e) => byChannel.push(e))
  await client.subscribe('messages', { filter: { content: { $prefix: 'hi', $lt: 'hj' }, author: { $exists: true } } }, (e) => byContent.push(e))

  await messages.insert({ id: 'm1', content: 'x', channel: 'a' })
  await messages.insert({ id: 'm2', content: 'hi there', channel: 'z', author: 'ann' })
  await messages.insert({ id: 'm3', content: 'hi', channel: 'z' }) // no author: neither
  await messages.update('m1', { channel: 'b' }) // stays in the $in
  await messages.update('m1', { channel: 'c' }) // leaves it
  await messages.update('m3', { author: 'bob' }) // enters the second
  await messages.update('m2', { content: 'hz' }) // leaves the range
  await client.get('messages', 'm1') // every event above arrived before this reply

  // An update the connection got for the other subscription reaches this one as `left` (its
  // view drops the record if it holds it): the client's rule for updates that do not match.
  t.same(seen(byChannel), ['insert:m1', 'update:m1', 'update:m1:left', 'update:m3:left', 'update:m2:left'])
  t.same(seen(byContent), ['insert:m2', 'update:m1:left', 'update:m1:left', 'update:m3', 'update:m2:left'])
})

t.test('a typed list with operators returns what the subscription would match', async (t) => {
  const { url } = await buildApp(t)
  const client = createClient<Records>({ url, requestTimeout: 5000 })
  t.teardown(() => { client.close() })
  for (const [content, channel] of [['a1', 'x'], ['b1', 'x'], ['b2', 'y'], ['c1', 'x']] as const) await client.insert('messages', { content, channel })
  const listed = await client.listAll('messages', { filter: { content: { $gte: 'b', $lt: 'c' }, channel: { $ne: 'y' } } })
  t.same(listed.map((m) => m.content), ['b1'])
})
