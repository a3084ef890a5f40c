import t from 'tap'
import { buildApp } from '../helpers/app.js'

// Regression: `replace` is captured from its after-hook, inside the write, while s3db announces
// the write before it (insert, update) one turn after that write resolved: an app awaiting an
// insert and then replacing the record had the replace numbered first, so clients applied the
// two in the wrong order and kept the older version (found by a black-box attack).
t.test('a write awaited before a replace is numbered before it, live and in history', async (t) => {
  const { client, db } = await buildApp(t)
  const ws = await client()
  const { seq: start } = await ws.request({ type: 'subscribe', resource: 'messages' })
  const messages = db.resources.messages!
  await messages.insert({ id: 'm1', content: 'first', channel: 'c' })
  await messages.replace('m1', { content: 'replaced', channel: 'c' })
  await messages.update('m1', { content: 'updated' })
  await messages.replace('m1', { content: 'replaced again', channel: 'c' })
  const live = [await ws.waitType('event'), await ws.waitType('event'), await ws.waitType('event'), await ws.waitType('event')]
  t.same(live.map((e) => [e.event, e.data.content, e.seq - start]), [
    ['insert', 'first', 1], ['update', 'replaced', 2], ['update', 'updated', 3], ['update', 'replaced again', 4]
  ], 'in the order the writes were made')

  const resumed = await client()
  await resumed.request({ type: 'subscribe', resource: 'messages', since: start })
  const replayed = [await resumed.waitType('event'), await resumed.waitType('event'), await resumed.waitType('event'), await resumed.waitType('event')]
  t.same(replayed.map((e) => e.data.content), ['first', 'replaced', 'updated', 'replaced again'], 'history holds the same order')
})
