import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import t from 'tap'
import { withTimeout } from '../../src/util/timeout.js'

// A process busy when the timer came due (a large fan-out) may have the answer already waiting,
// unread, in a socket: the timeout must not win over it (this made a clustered instance give up
// on Redis appends Redis had answered in time, and resync every client).
t.test('an answer waiting in a socket when the timer comes due wins over the timeout', async (t) => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = connect((server.address() as { port: number }).port, '127.0.0.1')
  await once(client, 'connect')
  const [peer] = await accepted
  t.teardown(() => { client.destroy(); peer.destroy(); server.close() })

  const answer = withTimeout(async () => String((await once(client, 'data'))[0]), 10)
  peer.write('answer')
  const busyUntil = Date.now() + 50
  while (Date.now() < busyUntil) { /* the event loop is busy past the timeout */ }
  t.equal(await answer, 'answer')
  await t.rejects(withTimeout(async () => await new Promise(() => {}), 5, 'nothing came'), { message: 'nothing came' }, 'with no answer, it still times out')
})
