import t from 'tap'
import { buildApp, sleep } from '../helpers/app.js'

t.test('subscribe {since} replays the missed matching events, then continues live', async (t) => {
  const { client, db } = await buildApp(t, { historySize: 50 })
  const messages = db.resources.messages as any
  const first = await client()
  const sub = await first.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  await messages.insert({ id: 'm0', content: '0', channel: 'a' })
  const seen = await first.waitType('event')
  first.close()
  await first.closed

  // Written while the client was away: 3 match its filter, 2 do not.
  await messages.insert({ id: 'm1', content: '1', channel: 'a' })
  await messages.insert({ id: 'm2', content: '2', channel: 'b' })
  await messages.update('m1', { content: '1b' })
  await messages.insert({ id: 'm3', content: '3', channel: 'b' })
  await messages.delete('m0')

  const again = await client()
  const resumed = await again.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' }, since: seen.seq, epoch: sub.epoch })
  t.equal(resumed.type, 'subscribed')
  await messages.insert({ id: 'm4', content: '4', channel: 'a' })
  await again.request({ type: 'ping' })
  await sleep(20)
  const events = again.ofType('event')
  t.same(events.map((e) => `${e.event}:${e.data.id}`), ['insert:m1', 'update:m1', 'delete:m0', 'insert:m4'], 'missed ones in order, then live, no duplicate')
  const seqs = events.map((e) => e.seq)
  t.same(seqs, [...seqs].sort((x, y) => x - y), 'in seq order')
})

t.test('RESYNC_REQUIRED when history no longer covers since, or the epoch differs', async (t) => {
  const { client, db } = await buildApp(t, { historySize: 3 })
  const messages = db.resources.messages as any
  for (let i = 0; i < 6; i++) await messages.insert({ content: String(i), channel: 'a' })
  const ws = await client()
  const old = await ws.request({ type: 'subscribe', resource: 'messages', since: 1 })
  t.equal(old.code, 'RESYNC_REQUIRED')
  t.equal(old.details.seq, 6)
  const covered = await ws.request({ type: 'subscribe', resource: 'messages', since: 3 })
  t.equal(covered.type, 'subscribed')
  const otherEpoch = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' }, since: 5, epoch: 'another-server' })
  t.equal(otherEpoch.code, 'RESYNC_REQUIRED')
})
