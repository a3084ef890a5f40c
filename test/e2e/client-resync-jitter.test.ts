/**
 * After a pushed RESYNC_REQUIRED the server cannot replay (a cluster fault moved the epoch),
 * every client re-lists. `resyncJitter` spreads those listings: each subscription waits a random
 * delay first (issue #18, "Also seen"). Math.random is pinned so the delay is known; the checks
 * are on the order of frames, never on durations.
 */
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { createClient, type RealtimeClient, type SubscriptionEvent } from '../../src/client/index.js'
import type { SocketLike } from '../../src/client/types.js'
import { encode, resourceResyncFrame } from '../../src/wire/frames.js'
import { buildApp, type TestApp } from '../helpers/app.js'
import { partsOf } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

type Records = { messages: { content: string, channel: string } }
type Frame = Record<string, unknown>

/** A client whose socket frames (both ways) the test can read; closed at teardown. */
function spiedClient (t: Test, url: string, resyncJitter: number): { client: RealtimeClient<Records>, sent: Frame[], received: Frame[], sockets: WebSocket[] } {
  const sent: Frame[] = []
  const received: Frame[] = []
  const sockets: WebSocket[] = []
  const client = createClient<Records>({
    url,
    resyncJitter,
    requestTimeout: 5000,
    reconnect: { initialDelay: 10, maxDelay: 50 },
    socketFactory: (target) => {
      const ws = new WebSocket(target)
      sockets.push(ws)
      const send = ws.send.bind(ws)
      ws.send = ((data: string) => { sent.push(JSON.parse(data) as Frame); send(data) }) as typeof ws.send
      ws.on('message', (data) => { received.push(JSON.parse(data.toString()) as Frame) })
      return ws as unknown as SocketLike
    }
  })
  t.teardown(() => { client.close() })
  return { client, sent, received, sockets }
}

/** What a cluster recovery does to this instance: a new epoch, and RESYNC_REQUIRED to every subscriber. */
function moveEpoch (app: TestApp, epoch: string): void {
  const { stream, hub } = partsOf(app.app)
  stream.setEpoch(epoch)
  hub.sendToSubscribers('messages', encode(resourceResyncFrame('messages', epoch, stream.lastSeq('messages'))))
}

const pinRandom = (t: Test, value: number): void => {
  const original = Math.random
  Math.random = () => value
  t.teardown(() => { Math.random = original })
}

const lists = (sent: Frame[]): number => sent.filter((f) => f.type === 'list').length
const refusedResumes = (received: Frame[]): number => received.filter((f) => f.code === 'RESYNC_REQUIRED' && typeof f.requestId === 'string').length

t.test('a re-list after a pushed RESYNC_REQUIRED waits its random delay; with none drawn it lists at once', async (t) => {
  const app = await buildApp(t)
  const waiting = spiedClient(t, app.url, 60_000)
  const snapshots: number[] = []
  await waiting.client.subscribe('messages', {}, (event: SubscriptionEvent<{ id: string }>) => { if (event.event === 'snapshot') snapshots.push(event.data.length) })
  const record = await waiting.client.insert('messages', { content: 'x', channel: 'c' })
  await until(() => waiting.received.some((f) => f.type === 'event'), 'the insert event')

  pinRandom(t, 0.5) // a 30 s wait
  moveEpoch(app, 'moved-1')
  await until(() => refusedResumes(waiting.received) === 1, 'the resume with the old epoch to be refused')
  // A request sent now is answered after anything the client sent on the refusal.
  await waiting.client.get('messages', record.id)
  t.equal(lists(waiting.sent), 0, 'no listing yet: the re-list waits its delay')
  t.same(snapshots, [])

  const prompt = spiedClient(t, app.url, 60_000)
  const promptSnapshots: number[] = []
  await prompt.client.subscribe('messages', {}, (event: SubscriptionEvent<{ id: string }>) => { if (event.event === 'snapshot') promptSnapshots.push(event.data.length) })
  pinRandom(t, 0) // no wait drawn
  moveEpoch(app, 'moved-2')
  await until(() => promptSnapshots.length === 1, 'the prompt client to re-list')
  t.same(promptSnapshots, [1], 'a zero delay re-lists at once')

  const errors: unknown[] = []
  waiting.client.on('error', (error) => { errors.push(error) })
  waiting.client.close()
  await prompt.client.get('messages', record.id)
  t.equal(lists(waiting.sent), 0, 'no listing: a second notice during the wait is covered by it, and closing ends it')
  t.same(errors, [], 'and without an error')
})

t.test('the socket drops during the wait: the reconnect re-lists once, the wait is abandoned', async (t) => {
  const app = await buildApp(t)
  const spied = spiedClient(t, app.url, 400)
  const snapshots: number[] = []
  await spied.client.subscribe('messages', {}, (event: SubscriptionEvent<{ id: string }>) => { if (event.event === 'snapshot') snapshots.push(event.data.length) })
  await spied.client.insert('messages', { content: 'x', channel: 'c' })

  pinRandom(t, 0.99) // a ~400 ms wait
  moveEpoch(app, 'moved')
  await until(() => refusedResumes(spied.received) === 1, 'the resume with the old epoch to be refused')
  spied.sockets[0]?.terminate()
  await until(() => snapshots.length === 1, 'the re-list after the reconnect')
  await new Promise((resolve) => setTimeout(resolve, 800)) // past the abandoned wait
  await spied.client.insert('messages', { content: 'y', channel: 'c' })
  t.same(snapshots, [1], 'one snapshot: the abandoned wait did not list again')
  t.equal(lists(spied.sent), 1, 'one listing')
})

t.test('resyncJitter is validated', async (t) => {
  t.throws(() => createClient({ url: 'ws://x', resyncJitter: -1 }), /resyncJitter/)
  t.throws(() => createClient({ url: 'ws://x', resyncJitter: Number.NaN }), /resyncJitter/)
  t.doesNotThrow(() => createClient({ url: 'ws://x', resyncJitter: 0 }).close())
})
