import t from 'tap'
import { buildApp, sleep } from '../helpers/app.js'
import { hsToken } from '../helpers/jwt.js'

// Attack review round 3, finding 3: a socket whose token expired during a 100-item insertMany
// with a slow `create` guard was closed with 4001 only when the batch finished (~4 s after exp),
// and kept writing until then. Sockets are closed at exp, and the batch stops there.

t.test('a token that expires mid-batch closes the socket with 4001 and stops the batch', async (t) => {
  let guardCalls = 0
  const slowCreate = async (): Promise<boolean> => { guardCalls++; await sleep(40); return true }
  const { client, db } = await buildApp(t, {
    auth: { required: true, drivers: [{ driver: 'jwt', config: { secret: 'test-secret-that-is-long-enough-for-hs256' } }] },
    resources: { messages: { guard: { create: slowCreate } } }
  })
  // exp has one-second resolution: at least ~1.2 s left, so the batch starts well before it.
  const exp = Math.ceil((Date.now() + 1200) / 1000)
  const c = await client(`?token=${hsToken({ sub: 'bob', exp })}`)
  // 100 items x 40 ms of guard = 4 s of batch, which runs well past exp.
  c.send({ type: 'insertMany', resource: 'messages', requestId: 'batch', data: Array.from({ length: 100 }, (_, i) => ({ content: `i${i}`, channel: 'e' })) })
  const closed = await c.closed
  const writtenAtClose = (await db.resources.messages!.list()).length
  const callsAtClose = guardCalls
  t.equal(closed.code, 4001, 'closed for expiry')
  t.ok(writtenAtClose < 100, `the batch did not finish before the close (${writtenAtClose} written)`)
  await sleep(500)
  t.equal((await db.resources.messages!.list()).length, writtenAtClose, 'nothing written after the close')
  t.ok(guardCalls <= callsAtClose + 1, 'the batch stopped asking the guard (at most the item in flight)')
  t.equal(c.ofType('insertedMany').length, 0, 'no reply after the close')
})
