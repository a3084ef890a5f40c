import t from 'tap'
import { LocalChannelRegistry } from '../../src/channels/registry.js'
import { recordingConnection } from './doubles.js'

const a = recordingConnection('a').connection
const b = recordingConnection('b').connection

t.test('add indexes a connection both ways: channel to sockets and socket to channels', async (t) => {
  const registry = new LocalChannelRegistry()
  registry.add('room', a)
  registry.add('room', b)
  registry.add('lobby', a)
  t.same([...registry.connections('room')], [a, b])
  t.same([...registry.connections('lobby')], [a])
  t.same(registry.channelsOf('a').sort(), ['lobby', 'room'])
  t.equal(registry.channelCountOf('a'), 2)
  t.equal(registry.channelCountOf('b'), 1)
  t.ok(registry.has('room', 'b'))
  t.notOk(registry.has('lobby', 'b'))
  t.equal(registry.clientCount, 2)
})

t.test('adding the same connection twice keeps one entry', async (t) => {
  const registry = new LocalChannelRegistry()
  registry.add('room', a)
  registry.add('room', a)
  t.same([...registry.connections('room')], [a])
  t.equal(registry.channelCountOf('a'), 1)
  t.ok(registry.remove('room', 'a'))
  t.notOk(registry.has('room', 'a'))
})

t.test('remove answers whether the connection was there, and drops empty entries', async (t) => {
  const registry = new LocalChannelRegistry()
  registry.add('room', a)
  registry.add('room', b)
  t.notOk(registry.remove('room', 'nobody'))
  t.notOk(registry.remove('nowhere', 'a'))
  t.ok(registry.remove('room', 'a'))
  t.notOk(registry.remove('room', 'a'), 'a second remove finds nothing')
  t.same([...registry.connections('room')], [b])
  t.same(registry.channelsOf('a'), [])
  t.equal(registry.channelCountOf('a'), 0)
  t.equal(registry.clientCount, 1, 'a connection in no channel is not counted')
  t.ok(registry.remove('room', 'b'))
  t.same([...registry.connections('room')], [])
  t.equal(registry.clientCount, 0)
})

t.test('channelsOf returns a copy the caller may iterate while leaving', async (t) => {
  const registry = new LocalChannelRegistry()
  for (const channel of ['c1', 'c2', 'c3']) registry.add(channel, a)
  for (const channel of registry.channelsOf('a')) registry.remove(channel, 'a')
  t.equal(registry.channelCountOf('a'), 0)
  t.same([...registry.connections('c2')], [])
})
