import t from 'tap'
import { buildApp } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'

// Found by the black-box attack: an update that changed only a protected value still reached
// subscribers (as a frame identical to the last one, or as an {id}-only frame for a `fields`
// naming the protected parent), telling them when the hidden value changed.
t.test('an update that changes only protected values reaches no subscriber, whatever it asked for', async (t) => {
  const { client, db } = await buildApp(t, { resources: { users: { protected: ['password', 'tenantId'] } } })
  const users = db.resources.users!
  await users.insert({ id: 'u1', name: 'Ann', password: 'pw', tenantId: 't1' })
  const subscribers: TestClient[] = []
  for (const request of [{}, { fields: ['name'] }, { fields: ['id', 'name'] }, { filter: { name: 'Ann' } }]) {
    const ws = await client()
    await ws.request({ type: 'subscribe', resource: 'users', ...request })
    subscribers.push(ws)
  }
  // Asking for a protected field selects nothing of it: this one hears of no update at all.
  const onlyProtected = await client()
  await onlyProtected.request({ type: 'subscribe', resource: 'users', fields: ['id', 'password'] })
  await users.update('u1', { password: 'pw2' })
  await users.update('u1', { tenantId: 't2' })
  await users.update('u1', { password: 'pw3', name: 'Anne' })
  for (const [i, ws] of subscribers.entries()) {
    const event = await ws.waitType('event')
    t.equal(event.seq, 4, `subscriber ${i}: the first event it gets is the visible change`)
    t.notOk(JSON.stringify(event).includes('pw'), 'no protected value in it')
  }
  t.same(onlyProtected.ofType('event'), [], 'nothing it can see ever changed')
})
