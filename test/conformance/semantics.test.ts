// Black-box conformance: PROTOCOL.md section 3 (single instance) and the pushed-event rules of
// section 2 (before-or-after matching, left:true, every write path exactly once, reset).
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { runEveryWritePath } from '../helpers/write-paths.js'

const jwtAuth = { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] }
const token = (sub: string, extra: Record<string, unknown> = {}): string => '?token=' + hsToken({ sub, ...extra })

/** Events received up to a sentinel insert (which every test subscription matches) arriving. */
async function eventsUntil (c: TestClient, sentinel: () => Promise<unknown>, id: string): Promise<Message[]> {
  await sentinel()
  const last = await c.waitFor((m) => m.type === 'event' && m.data?.id === id)
  return [...c.ofType('event'), last]
}

t.test('filters: equality, dot paths (and nested form), every field must match; list and subscribe agree', async (t) => {
  const { client, db } = await buildApp(t)
  const c = await client()
  await c.request({ type: 'subscribe', resource: 'messages', filter: { 'meta.kind': 'alert', channel: 'ops' } })
  const nested = await client()
  await nested.request({ type: 'subscribe', resource: 'messages', filter: { meta: { kind: 'alert' } } })
  const m = db.resources.messages!
  await m.insert({ id: 'a', content: 'x', channel: 'ops', meta: { kind: 'alert' } })
  await m.insert({ id: 'b', content: 'x', channel: 'dev', meta: { kind: 'alert' } })
  await m.insert({ id: 'c', content: 'x', channel: 'ops', meta: { kind: 'info' } })
  const seen = await eventsUntil(c, async () => await m.insert({ id: 'z', content: 'x', channel: 'ops', meta: { kind: 'alert' } }), 'z')
  t.same(seen.map((e) => e.data.id), ['a', 'z'], 'only records matching every field')
  await nested.waitFor((e) => e.type === 'event' && e.data.id === 'z')
  t.same(nested.ofType('event').map((e) => e.data.id), ['a', 'b'], 'nested filter form is the same dot path')
  const listed = await c.request({ type: 'list', resource: 'messages', filter: { 'meta.kind': 'alert', channel: 'ops' } })
  t.same(listed.data.map((r: { id: string }) => r.id).sort(), ['a', 'z'], 'list uses the same matcher')
})

t.test('effective filter = client AND forced: narrowing works, widening/overriding matches nothing', async (t) => {
  const { client, db } = await buildApp(t, {
    auth: jwtAuth,
    resources: {
      messages: {
        guard: {
          list: async (user) => user?.role === 'admin' ? true : { author: user?.id },
          subscribe: async (user) => user?.role === 'admin' ? true : { author: user?.id }
        }
      }
    }
  })
  const m = db.resources.messages!
  await m.insert({ id: 'ann1', content: 'x', channel: 'a', author: 'ann' })
  await m.insert({ id: 'ann2', content: 'x', channel: 'b', author: 'ann' })
  await m.insert({ id: 'bob1', content: 'x', channel: 'a', author: 'bob' })
  const ann = await client(token('ann'))
  const ids = (r: Message): string[] => r.data.map((x: { id: string }) => x.id).sort()
  t.same(ids(await ann.request({ type: 'list', resource: 'messages' })), ['ann1', 'ann2'], 'forced filter applies')
  t.same(ids(await ann.request({ type: 'list', resource: 'messages', filter: { channel: 'a' } })), ['ann1'], 'client narrows')
  t.same(ids(await ann.request({ type: 'list', resource: 'messages', filter: { author: 'bob' } })), [], 'cannot override')
  const admin = await client(token('root', { role: 'admin' }))
  t.same(ids(await admin.request({ type: 'list', resource: 'messages' })), ['ann1', 'ann2', 'bob1'])

  const sneaky = await client(token('ann'))
  await sneaky.request({ type: 'subscribe', resource: 'messages', filter: { author: 'bob' } })
  await ann.request({ type: 'subscribe', resource: 'messages' })
  await m.insert({ id: 'bob2', content: 'x', channel: 'a', author: 'bob' })
  const seen = await eventsUntil(ann, async () => await m.insert({ id: 'ann3', content: 'x', channel: 'a', author: 'ann' }), 'ann3')
  t.same(seen.map((e) => e.data.id), ['ann3'], 'events respect the forced filter')
  await admin.request({ type: 'ping' })
  t.equal(sneaky.ofType('event').length, 0, "{author:'bob'} against forced {author: me} matches nothing")
})

t.test('protected fields (dot paths) and s3db internals never leave the server; stored record intact', async (t) => {
  const { client, db } = await buildApp(t, { resources: { messages: { writeOnly: ['meta.secret', 'author'] } } })
  const c = await client()
  const other = await client()
  await c.request({ type: 'subscribe', resource: 'messages' })
  await other.request({ type: 'subscribe', resource: 'messages' })
  const frames: Message[] = []
  const leaks = (x: Message): boolean => JSON.stringify(x).includes('s3cr3t') || JSON.stringify(x).includes('"author"') ||
    Object.keys(x.data ?? {}).some((k) => k.startsWith('_') || k.startsWith('$'))
  const data = { id: 'p', content: 'x', channel: 'g', author: 'ann', meta: { kind: 'k', secret: 's3cr3t' } }
  frames.push(await c.request({ type: 'insert', resource: 'messages', data }))
  frames.push(await c.waitType('event'))
  frames.push(await c.request({ type: 'update', resource: 'messages', id: 'p', data: { content: 'y' } }))
  frames.push(await c.waitFor((e) => e.type === 'event' && e.event === 'update'))
  frames.push(await c.request({ type: 'get', resource: 'messages', id: 'p' }))
  const list = await c.request({ type: 'list', resource: 'messages' })
  frames.push(...list.data.map((d: unknown) => ({ data: d })))
  const stored = await db.resources.messages!.get('p')
  await c.request({ type: 'publish', channel: 'messages', message: { data: stored } })
  frames.push(await other.waitType('message'))
  for (const f of frames) t.notOk(leaks(f), `no protected field or internal in ${JSON.stringify(f).slice(0, 200)}`)
  t.equal(frames[4]!.data.meta.kind, 'k', 'sibling of a protected path kept')
  const after = await db.resources.messages!.get('p')
  t.equal((after.meta as { secret: string }).secret, 's3cr3t', 'stored record not mutated')
  t.equal(after.author, 'ann')
  t.equal((stored.meta as { secret: string }).secret, 's3cr3t', 'published record object not mutated')
})

t.test('resource auth roles gate every operation, events included', async (t) => {
  const { client, db } = await buildApp(t, { auth: jwtAuth, resources: { messages: { auth: ['admin'] } } })
  await db.resources.messages!.insert({ id: 'm1', content: 'x', channel: 'g' })
  const user = await client(token('u', { role: 'user' }))
  for (const msg of [
    { type: 'subscribe', resource: 'messages' },
    { type: 'list', resource: 'messages' },
    { type: 'get', resource: 'messages', id: 'm1' },
    { type: 'insert', resource: 'messages', data: { content: 'x', channel: 'g' } },
    { type: 'update', resource: 'messages', id: 'm1', data: { content: 'y' } },
    { type: 'delete', resource: 'messages', id: 'm1' },
    { type: 'publish', channel: 'messages', message: 'hi' }
  ]) {
    const reply = await user.request(msg)
    t.equal(reply.code, 'FORBIDDEN', `${msg.type} is forbidden`)
  }
  const admin = await client(token('a', { role: 'admin' }))
  await admin.request({ type: 'subscribe', resource: 'messages' })
  await db.resources.messages!.insert({ id: 'm2', content: 'x', channel: 'g' })
  await admin.waitFor((e) => e.type === 'event' && e.data.id === 'm2')
  t.equal(user.ofType('event').length, 0, 'no events without the role')
  t.equal((await db.resources.messages!.get('m1')).content, 'x', 'nothing changed')
})

t.test('resource events limit broadcasts; subscription events narrow further', async (t) => {
  const { client, db } = await buildApp(t, { resources: { messages: { events: ['insert', 'delete'] } } })
  const all = await client()
  const onlyDelete = await client()
  await all.request({ type: 'subscribe', resource: 'messages' })
  await onlyDelete.request({ type: 'subscribe', resource: 'messages', events: ['delete'] })
  const m = db.resources.messages!
  await m.insert({ id: 'e1', content: 'x', channel: 'g' })
  await m.update('e1', { content: 'y' })
  await m.delete('e1')
  await all.waitFor((e) => e.type === 'event' && e.event === 'delete')
  t.same(all.ofType('event').map((e) => e.event), ['insert'], 'update never broadcast')
  await onlyDelete.waitFor((e) => e.type === 'event' && e.event === 'delete')
  t.equal(onlyDelete.ofType('event').length, 0, 'subscription events narrow')
})

t.test('update goes to subscriptions matching before OR after; leaving carries left:true', async (t) => {
  const { client, db } = await buildApp(t)
  const c = await client()
  await c.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  const m = db.resources.messages!
  await m.insert({ id: 'r', content: 'x', channel: 'b' })
  await m.update('r', { channel: 'a' })
  const entered = await c.waitFor((e) => e.type === 'event')
  t.equal(entered.event, 'update')
  t.notOk(entered.left)
  await m.update('r', { channel: 'b' })
  const left = await c.waitFor((e) => e.type === 'event')
  t.equal(left.event, 'update')
  t.equal(left.left, true)
  t.equal(left.data.id, 'r')
  await m.update('r', { content: 'outside' })
  const seen = await eventsUntil(c, async () => await m.insert({ id: 's', content: 'x', channel: 'a' }), 's')
  t.same(seen.map((e) => e.data.id), ['s'], 'no event for a change outside before and after')
})

t.test('every s3db write path produces its event exactly once; deleteAll sends one reset', async (t) => {
  const { client, db } = await buildApp(t)
  const c = await client()
  await c.request({ type: 'subscribe', resource: 'messages' })
  const m = db.resources.messages!
  await runEveryWritePath(m)
  const end = await c.waitFor((e) => e.type === 'event' && e.data?.id === 'end')
  const events = [...c.ofType('event'), end]
  const got = events.map((e) => `${e.event}:${e.data.id as string}`)
  const count = (x: string): number => got.filter((g) => g === x).length
  for (const id of ['i', 'im1', 'im2', 'u', 'end']) t.equal(count(`insert:${id}`), 1, `insert:${id} once`)
  t.equal(count('update:u'), 1, 'upsert of an existing id: one update')
  t.equal(count('update:i'), 4, 'update, patch, replace, updateConditional: one each')
  for (const id of ['im1', 'im2', 'u']) t.equal(count(`delete:${id}`), 1, `delete:${id} once`)
  t.equal(got.length, 13, `nothing doubled or missing: ${got.join(' ')}`)
  const seqs = events.map((e) => e.seq as number)
  t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'seq monotonic')
  c.received.length = 0
  await m.deleteAll()
  const reset = await c.waitFor((e) => e.type === 'event' && e.event === 'reset')
  t.equal(reset.resource, 'messages')
  await m.insert({ id: 'after', content: 'x', channel: 'g' })
  await c.waitFor((e) => e.type === 'event' && e.data?.id === 'after')
  t.equal(c.ofType('event').length, 0, 'deleteAll sent no per-record events')
})

t.test('subscribe since: replays missed matching events, then live, no gap, no duplicate', async (t) => {
  const { client, db } = await buildApp(t)
  const m = db.resources.messages!
  const first = await client()
  await first.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  await m.insert({ id: 'a1', content: 'x', channel: 'a' })
  const last = await first.waitType('event')
  first.close()
  await m.insert({ id: 'b1', content: 'x', channel: 'b' })
  await m.insert({ id: 'a2', content: 'x', channel: 'a' })
  await m.insert({ id: 'a3', content: 'x', channel: 'a' })
  const again = await client()
  const writes = (async () => { for (let i = 4; i < 10; i++) await m.insert({ id: `a${i}`, content: 'x', channel: 'a' }) })()
  const sub = await again.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' }, since: last.seq })
  t.equal(sub.type, 'subscribed', JSON.stringify(sub))
  await writes
  const a9 = await again.waitFor((e) => e.type === 'event' && e.data.id === 'a9')
  const events = [...again.ofType('event'), a9]
  const ids = events.map((e) => e.data.id)
  t.same(ids, ['a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'], 'missed then live, in order, exactly once')
  const seqs = events.map((e) => e.seq as number)
  t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'seq increasing')
  t.ok(seqs[0]! > (last.seq as number))
})

t.test('subscribe since: a seq this server never issued (it restarted) answers RESYNC_REQUIRED, not a silent gap', async (t) => {
  const { createDatabase } = await import('../helpers/db.js')
  const db = await createDatabase(t)
  const m = db.resources.messages!
  const first = await buildApp(t, {}, { db })
  const c = await first.client()
  await c.request({ type: 'subscribe', resource: 'messages' })
  for (let i = 0; i < 3; i++) await m.insert({ id: `before${i}`, content: 'x', channel: 'a' })
  const last = await c.waitFor((e) => e.type === 'event' && e.data.id === 'before2')
  await first.app.close()
  // The "restarted" server: same bucket, fresh process state; a write lands before the client is back.
  const second = await buildApp(t, {}, { db })
  await m.insert({ id: 'missed', content: 'x', channel: 'a' })
  const back = await second.client()
  const reply = await back.request({ type: 'subscribe', resource: 'messages', since: last.seq })
  t.equal(reply.code, 'RESYNC_REQUIRED', `the client must re-list instead of missing 'missed': ${JSON.stringify(reply)}`)
})

t.test('protected fields cannot be probed through list/subscribe filters', async (t) => {
  const { client, db } = await buildApp(t, { resources: { users: { protected: ['password'] }, messages: { protected: ['meta.secret'] } } })
  await db.resources.users!.insert({ id: 'u1', name: 'Ann', password: 'hunter2' })
  await db.resources.messages!.insert({ id: 'm1', content: 'x', channel: 'a', meta: { secret: 's3cr3t' } })
  const c = await client()
  for (const msg of [
    { type: 'list', resource: 'users', filter: { password: 'hunter2' } },
    { type: 'subscribe', resource: 'users', filter: { password: 'hunter2' } },
    { type: 'list', resource: 'messages', filter: { 'meta.secret': 's3cr3t' } },
    { type: 'list', resource: 'messages', filter: { meta: { secret: 's3cr3t' } } }
  ]) {
    const reply = await c.request(msg)
    t.equal(reply.code, 'FORBIDDEN', `${JSON.stringify(msg)} must not reveal whether the hidden value matches`)
  }
  const fine = await c.request({ type: 'list', resource: 'messages', filter: { channel: 'a' } })
  t.equal(fine.data.length, 1, 'other fields still filter')
})

t.test('writes made over the socket produce exactly one event each', async (t) => {
  const { client } = await buildApp(t)
  const writer = await client()
  const watcher = await client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  await writer.request({ type: 'subscribe', resource: 'messages' })
  const ins = await writer.request({ type: 'insert', resource: 'messages', data: { content: 'x', channel: 'a' } })
  await writer.request({ type: 'update', resource: 'messages', id: ins.data.id, data: { content: 'y' } })
  await writer.request({ type: 'delete', resource: 'messages', id: ins.data.id })
  await writer.request({ type: 'insert', resource: 'messages', data: { id: 'end', content: 'x', channel: 'a' } })
  for (const c of [watcher, writer]) {
    const end = await c.waitFor((e) => e.type === 'event' && e.data.id === 'end')
    t.same([...c.ofType('event'), end].map((e) => e.event), ['insert', 'update', 'delete', 'insert'], 'one event per write, the writer included')
  }
})
