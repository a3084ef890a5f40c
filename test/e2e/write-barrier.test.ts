import t from 'tap'
import { holdWritesUntilNumbered } from '../../src/bridge/write-barrier.js'
import { InFlight } from '../../src/cluster/in-flight.js'
import type { FastifyBaseLogger } from 'fastify'
import { ResourceBridge } from '../../src/bridge/bridge.js'
import type { ResolvedResource } from '../../src/access/resource.js'
import type { ResourceLike } from '../../src/types.js'
import { createDatabase } from '../helpers/db.js'

const silentLog = { error: () => {}, warn: () => {} } as unknown as FastifyBaseLogger

const turns = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve)) }

t.test('a held write resolves only after the numbering it started has settled; undo restores the resource', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as unknown as ResourceLike
  const inFlight = new InFlight()
  let release: () => void = () => {}
  // Stands in for the coordinator: each captured change starts a numbering that ends on release().
  messages.on('inserted', () => { inFlight.track('messages', new Promise<void>((resolve) => { release = resolve })) })
  const originalInsert = messages.insert
  const undo = holdWritesUntilNumbered(messages, async () => { await inFlight.settled('messages') })
  t.not(messages.insert, originalInsert, 'insert is wrapped')

  let done = false
  const write = messages.insert({ id: 'w1', content: 'x', channel: 'c' }).then(() => { done = true })
  await turns(20)
  t.equal(done, false, 'the write waits while its change is being numbered')
  t.ok(await db.resources.messages!.exists('w1'), 'although the record is already stored')
  release()
  await write
  t.equal(done, true, 'and resolves once it is numbered')

  undo()
  t.equal(messages.insert, originalInsert, 'undo puts the original insert back')
  let plain = false
  const unheld = messages.insert({ id: 'w2', content: 'y', channel: 'c' }).then(() => { plain = true })
  await unheld
  t.equal(plain, true, 'after undo a write does not wait for numbering')
})

t.test('a failed write rejects as before (after the same wait: it may have announced a change)', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as unknown as ResourceLike
  let waited = 0
  const undo = holdWritesUntilNumbered(messages, async () => { waited++ })
  t.teardown(undo)
  await t.rejects(messages.update('missing', { content: 'z' }), 'an update of a missing record still rejects')
  t.equal(waited, 1, 'waited once')
  await messages.insert({ id: 'ok', content: 'a', channel: 'c' })
  t.equal(waited, 2, 'a write that happened waits once')
})

t.test('a slow listener registered before the plugin cannot let a held write resolve before its numbering starts', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as unknown as ResourceLike
  // An app's (or another plugin's) async listener, attached first: s3db awaits it before the next.
  messages.on('inserted', async () => { await new Promise((resolve) => setTimeout(resolve, 100)) })
  const inFlight = new InFlight()
  let release: () => void = () => {}
  const sink = (): void => { inFlight.track('messages', new Promise<void>((resolve) => { release = resolve })) }
  const resources = new Map([['messages', { name: 'messages', resource: messages } as unknown as ResolvedResource]])
  const bridge = new ResourceBridge(resources, sink, silentLog, async (name) => { await inFlight.settled(name) })
  bridge.attach()
  t.teardown(() => { bridge.detach() })

  let done = false
  const write = messages.insert({ id: 'slow', content: 'x', channel: 'c' }).then(() => { done = true })
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(done, false, 'still waiting for the numbering, not for the slow listener')
  release()
  await write
  t.equal(done, true)
})
