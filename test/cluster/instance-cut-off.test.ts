/**
 * Issue #18, fault 3 for instances, with real processes: an instance cut off from Redis for
 * longer than the others wait before declaring it dead must stop taking writes it could not
 * announce (were it to die before Redis returns, they would be lost for good), and take them
 * again once back in step; an instance that stops cleanly is not announced as lost.
 */
import t, { type Test } from 'tap'
import { busConnected, eventIds, isResync, openClient, twoInstances, type Instance } from '../helpers/cluster-processes.js'
import { until } from '../helpers/wait.js'

const LEASE = 1000

/** Inserts through a fresh socket: the reply's type, or 'closed <code>' when the socket is closed instead. */
async function tryInsert (t: Test, instance: Instance, id: string): Promise<string> {
  const client = await openClient(t, instance)
  client.send({ type: 'insert', resource: 'messages', requestId: id, data: { id, content: 'x', channel: 'c' } })
  return await Promise.race([
    client.waitFor((m) => m.requestId === id, 30_000).then((m) => m.type as string),
    client.closed.then(({ code }) => `closed ${code}`)
  ])
}

t.test('cut off for longer than the cluster waits: the instance stops taking writes before it is declared dead, and takes them again once back', async (t) => {
  const { a, link, watcher } = await twoInstances(t, LEASE)
  const reader = await openClient(t, a)
  await reader.request({ type: 'subscribe', resource: 'messages' })
  const writer = await openClient(t, a)
  link.cut()
  await until(async () => !(await busConnected(a)), 'A to notice it is cut off')
  // B hears nothing from A for 3 leases: A may have written what nobody was told; B says so.
  const told = await watcher.waitFor(isResync, 20 * LEASE)
  t.equal(told.details.resource, 'messages', 'B tells its subscribers to re-list once it presumes A dead')
  // By then A refuses writes: acknowledged now, they would be lost for good if A died before Redis returns.
  writer.send({ type: 'insert', resource: 'messages', requestId: 'late', data: { id: 'late', content: 'x', channel: 'c' } })
  const closed = await writer.closed
  t.equal(closed.code, 1013, 'a write sent to an instance out of step closes its socket with 1013 (try again later)')
  t.notOk(writer.received.some((m) => m.requestId === 'late' && m.type === 'inserted'), 'the write was not acknowledged')
  t.equal(reader.closeCode, null, 'sockets that do not write stay open')

  link.heal()
  await until(async () => await busConnected(a), 'A to reach Redis again')
  // Back in step once it hears the cluster again and has caught up; until then a write is turned away.
  let reply: string | null = null
  for (let i = 0; reply !== 'inserted' && i < 40; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, LEASE / 2))
    reply = await tryInsert(t, a, 'back')
  }
  t.equal(reply, 'inserted', 'back in step, A takes writes again')
  await until(() => eventIds(watcher).has('back'), 'the watcher on B to get the write made after A came back')
})

t.test('an instance that stops cleanly (SIGTERM) is not announced as lost', async (t) => {
  const { a, watcher } = await twoInstances(t, LEASE)
  const writer = await openClient(t, a)
  await writer.request({ type: 'insert', resource: 'messages', data: { id: 'one', content: 'x', channel: 'c' } })
  await until(() => eventIds(watcher).has('one'), 'the write to reach the watcher')
  const mark = watcher.received.length
  a.child.kill('SIGTERM')
  await a.exited
  await new Promise((resolve) => setTimeout(resolve, 6 * LEASE)) // twice the wait before a silent node counts as dead
  await watcher.request({ type: 'ping' })
  t.notOk(watcher.received.slice(mark).some(isResync), 'no RESYNC_REQUIRED for an instance that said goodbye')
})
