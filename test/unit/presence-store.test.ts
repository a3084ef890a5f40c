import t from 'tap'
import { MemoryPresenceStore } from '../../src/channels/presence-store.js'
import type { PresenceMember, UserInfo } from '../../src/channels/types.js'

const JOINED = '2026-01-01T00:00:00.000Z'

function entry (id: string, clientId: string, userInfo: UserInfo = {}): PresenceMember {
  return { id, clientId, userInfo, joinedAt: JOINED }
}

t.test('the first connection of a user adds a member; later tabs attach to it', async (t) => {
  const store = new MemoryPresenceStore()
  const first = store.join('presence-room', 'presence', entry('ann', 'c1', { name: 'Ann' }))
  t.equal(first.added, true)
  t.same(first.member, entry('ann', 'c1', { name: 'Ann' }))
  const second = store.join('presence-room', 'presence', entry('ann', 'c2', { name: 'Other tab' }))
  t.equal(second.added, false)
  t.same(second.member.userInfo, { name: 'Ann' }, 'the member keeps its first state')
  t.equal(store.memberCount('presence-room'), 1)
  t.equal(store.channel('presence-room')?.connectionCount, 2)
  t.ok(store.hasMember('presence-room', 'ann'))
  t.notOk(store.hasMember('presence-room', 'bob'))
  t.equal(store.memberOf('presence-room', 'c2')?.id, 'ann')
})

t.test('joining again with the same connection is idempotent', async (t) => {
  const store = new MemoryPresenceStore()
  store.join('room', 'public', entry('ann', 'c1'))
  t.equal(store.join('room', 'public', entry('ann', 'c1')).added, false)
  t.equal(store.channel('room')?.connectionCount, 1)
  const left = store.leave('room', 'c1')
  t.equal(left?.removed, true, 'one leave undoes it')
  t.equal(store.channel('room'), null)
})

t.test('the last connection leaving removes the member; the channel goes with its last connection', async (t) => {
  const store = new MemoryPresenceStore()
  store.join('room', 'presence', entry('ann', 'c1'))
  store.join('room', 'presence', entry('ann', 'c2'))
  store.join('room', 'presence', entry('bob', 'c3'))
  const firstTab = store.leave('room', 'c1')
  t.equal(firstTab?.removed, false)
  t.equal(firstTab?.member.clientId, 'c2', 'the member now answers to its remaining connection')
  t.equal(store.memberOf('room', 'c2')?.clientId, 'c2')
  t.equal(store.leave('room', 'c2')?.removed, true)
  t.same(store.members('room').map((m) => m.id), ['bob'])
  t.equal(store.leave('room', 'c3')?.removed, true)
  t.equal(store.channel('room'), null)
  t.same(store.channels(), [])
  t.same(store.members('room'), [])
  t.equal(store.memberCount('room'), 0)
})

t.test('leaving a channel one is not in answers null', async (t) => {
  const store = new MemoryPresenceStore()
  t.equal(store.leave('room', 'c1'), null)
  store.join('room', 'public', entry('ann', 'c1'))
  t.equal(store.leave('room', 'c9'), null)
  t.equal(store.leave('other', 'c1'), null)
  t.equal(store.memberOf('room', 'c9'), null)
})

t.test('update shallow-merges user info and stamps the time; null when not a member', async (t) => {
  const store = new MemoryPresenceStore()
  store.join('room', 'presence', entry('ann', 'c1', { name: 'Ann', status: 'idle', prefs: { a: 1 } }))
  store.join('room', 'presence', entry('ann', 'c2'))
  const updated = store.update('room', 'c2', { status: 'typing', prefs: { b: 2 } }, '2026-01-01T00:01:00.000Z')
  t.same(updated, { id: 'ann', clientId: 'c1', joinedAt: JOINED, updatedAt: '2026-01-01T00:01:00.000Z', userInfo: { name: 'Ann', status: 'typing', prefs: { b: 2 } } },
    'any of the user\'s connections updates the one member')
  t.same(store.members('room'), [updated])
  t.equal(store.update('room', 'c9', {}, JOINED), null)
  t.equal(store.update('nowhere', 'c1', {}, JOINED), null)
})

t.test('returned members are snapshots: later changes never alter them', async (t) => {
  const store = new MemoryPresenceStore()
  const info = { name: 'Ann' }
  const { member } = store.join('room', 'presence', entry('ann', 'c1', info))
  info.name = 'changed by the caller'
  t.same(store.members('room')[0]?.userInfo, { name: 'Ann' }, 'the store copied the joiner\'s user info')
  store.join('room', 'presence', entry('ann', 'c2'))
  store.update('room', 'c1', { name: 'Ann B' }, '2026-01-01T00:01:00.000Z')
  store.leave('room', 'c1')
  t.same(member, entry('ann', 'c1', { name: 'Ann' }), 'the member handed out on join is untouched')
})

t.test('channels describes every channel with its counts', async (t) => {
  const store = new MemoryPresenceStore()
  store.join('presence-a', 'presence', entry('ann', 'c1'))
  store.join('presence-a', 'presence', entry('ann', 'c2'))
  store.join('presence-a', 'presence', entry('bob', 'c3'))
  store.join('public-b', 'public', entry('c4', 'c4'))
  const described = store.channels().map(({ createdAt, ...rest }) => {
    t.ok(!Number.isNaN(Date.parse(createdAt)))
    return rest
  })
  t.same(described, [
    { name: 'presence-a', type: 'presence', memberCount: 2, connectionCount: 3 },
    { name: 'public-b', type: 'public', memberCount: 1, connectionCount: 1 }
  ])
})
