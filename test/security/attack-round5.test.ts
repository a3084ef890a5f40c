/**
 * Fifth black-box round. s3db 19.5.10 writes a field its mapper does not shorten (a field of a
 * long-form object, or of an object held by an `any` attribute: `org.id`) under its stored key
 * name (`org_id`: `.` becomes `_`, lowercased) and reads it back under that name, where it can
 * land on another attribute. Writes are judged on that, and protected paths hide a field under
 * every name it has. Plus: a CONFLICT for a record the `get` guard refuses, the filter size cap,
 * and key segments that s3db or a file system would trim.
 */
import t, { type Test } from 'tap'
import type { RealtimeOptions, RealtimeUser } from '../../src/index.js'
import { buildApp, type TestApp } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { createDatabase, type Db } from '../helpers/db.js'
import { hsToken, SECRET } from '../helpers/jwt.js'

const auth = { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] }
type Definition = Parameters<Db['createResource']>[0]

async function app (t: Test, definitions: Definition[], resources: RealtimeOptions['resources']): Promise<TestApp & { as: (claims: Record<string, string>) => Promise<TestClient> }> {
  const db = await createDatabase(t, { resources: false })
  for (const definition of definitions) await db.createResource(definition)
  const built = await buildApp(t, { auth, resources }, { db })
  return { ...built, as: async (claims) => await built.client(`?token=${hsToken({ role: 'member', ...claims })}`) }
}

const orgGuard = { list: (user: RealtimeUser | null) => ({ org_id: String(user?.org) }), subscribe: (user: RealtimeUser | null) => ({ org_id: String(user?.org) }) }

for (const org of ['any|optional', { type: 'object', optional: true, props: { id: 'string|optional' } }] as const) {
  const kind = typeof org === 'string' ? 'an any field' : 'a long-form object'
  t.test(`a field of ${kind} that s3db stores as another attribute (org.id as org_id) cannot move a record to another tenant`, async (t) => {
    const { db, as } = await app(t, [{ name: 'docs', attributes: { org_id: 'string|required', org, title: 'string|optional' } } as Definition], { docs: { guard: orgGuard } })
    const docs = db.resources.docs!
    await docs.insert({ id: 'd1', org_id: 'o1', title: 'mine' })
    const mallory = await as({ sub: 'mallory', org: 'o1' })
    const victim = await as({ sub: 'victim', org: 'o2' })
    await victim.request({ type: 'subscribe', resource: 'docs' })

    const inserted = await mallory.request({ type: 'insert', resource: 'docs', data: { org_id: 'o1', org: { id: 'o2' }, title: 'planted' } })
    t.match(inserted, { type: 'error', code: 'INVALID_REQUEST', details: { field: '/data/org' } }, 'insert refused')
    const updated = await mallory.request({ type: 'update', resource: 'docs', id: 'd1', data: { org: { id: 'o2' } } })
    t.match(updated, { type: 'error', code: 'INVALID_REQUEST', details: { field: '/data/org' } }, 'update refused')
    t.equal((await docs.get('d1')).org_id, 'o1', 'the record stayed in o1')
    t.equal((await docs.list()).length, 1, 'nothing inserted')
    await victim.request({ type: 'ping' })
    t.equal(victim.ofType('event').length, 0, 'the other tenant heard nothing')
  })
}

t.test('a partition value reached through a renamed field (org.id as org_id) is judged as a key segment', async (t) => {
  const { db, as } = await app(t, [{
    name: 'docs',
    attributes: { org_id: 'string|optional', org: 'any|optional' },
    partitions: { byOrg: { fields: { org_id: 'string' } } }
  } as Definition], { docs: true })
  const client = await as({ sub: 'u' })
  const reply = await client.request({ type: 'insert', resource: 'docs', data: { org: { id: '../../outside' } } })
  t.equal(reply.type, 'error', 'refused')
  t.equal((await db.resources.docs!.list()).length, 0, 'nothing stored')
})

t.test('protected by its flattened name (profile_pin), a long-form field is hidden and unwritable under its nested name too', async (t) => {
  const { db, as } = await app(t, [{
    name: 'acc',
    attributes: { name: 'string|optional', profile: { type: 'object', optional: true, props: { pin: 'string|optional', nick: 'string|optional' } } }
  } as Definition], { acc: { protected: ['profile_pin'] } })
  const acc = db.resources.acc!
  await acc.insert({ id: 'a', name: 'x', profile: { pin: '1234', nick: 'n' } })
  const plain = await as({ sub: 'p' })
  const delta = await as({ sub: 'd' })
  const first = await plain.request({ type: 'subscribe', resource: 'acc' })
  await delta.request({ type: 'subscribe', resource: 'acc', delta: true })
  t.equal(first.type, 'subscribed')
  const before = await plain.request({ type: 'get', resource: 'acc', id: 'a' })

  await acc.update('a', { profile: { pin: '7777', nick: 'n' } })
  const event = await plain.waitType('event')
  const change = await delta.waitType('event')
  const get = await plain.request({ type: 'get', resource: 'acc', id: 'a' })
  const list = await plain.request({ type: 'list', resource: 'acc' })
  for (const [what, payload] of [['event', event], ['delta', change], ['get', get], ['list', list]] as const) {
    t.notOk(JSON.stringify(payload).includes('7777'), `${what}: the pin never leaves`)
  }
  t.equal(before.type, 'data')
  await acc.update('a', { profile: { pin: '8888', nick: 'n' } })
  const again = await plain.request({ type: 'get', resource: 'acc', id: 'a' })
  t.equal(again.version, get.version, 'the version is the same whatever the pin')
  t.equal(plain.ofType('event').length, 0, 'a change of the pin alone is announced to nobody')
  for (const path of ['profile.pin', 'Profile.PIN', 'profile_pin']) {
    t.match(await plain.request({ type: 'list', resource: 'acc', filter: { [path]: '7777' } }), { code: 'FORBIDDEN' }, `no filter on ${path}`)
  }
  const write = await plain.request({ type: 'update', resource: 'acc', id: 'a', data: { profile: { pin: '0000' } } })
  t.equal(write.type, 'error', 'the nested name cannot be written')
  t.equal((await acc.get('a')).profile_pin, '8888', 'the stored pin is unchanged')
})

t.test('an object in an any field cannot overwrite a protected attribute it would be stored as', async (t) => {
  const { db, as } = await app(t, [{ name: 'acc', attributes: { profile: 'any|optional', profile_pin: 'string|optional' } } as Definition], { acc: { protected: ['profile_pin'] } })
  const acc = db.resources.acc!
  await acc.insert({ id: 'a', profile_pin: '1234' })
  const client = await as({ sub: 'u' })
  const reply = await client.request({ type: 'update', resource: 'acc', id: 'a', data: { profile: { pin: '0000' } } })
  t.equal(reply.type, 'error', 'refused')
  t.equal((await acc.get('a')).profile_pin, '1234', 'the protected value is unchanged')
})

t.test('a CONFLICT for a record the get guard refuses carries neither the record nor its version', async (t) => {
  const { db, as } = await app(t, [{ name: 'notes', attributes: { body: 'string|optional' } } as Definition], {
    notes: { guard: { get: (_user, context) => context.id !== 'x' } }
  })
  await db.resources.notes!.insert({ id: 'x', body: 'hidden text' })
  await db.resources.notes!.insert({ id: 'y', body: 'visible text' })
  const client = await as({ sub: 'u' })
  t.match(await client.request({ type: 'get', resource: 'notes', id: 'x' }), { code: 'FORBIDDEN' })
  const hidden = await client.request({ type: 'update', resource: 'notes', id: 'x', data: { body: 'new' }, ifVersion: 'stale' })
  t.equal(hidden.code, 'CONFLICT')
  t.equal(hidden.details, undefined, 'no details')
  t.notOk(JSON.stringify(hidden).includes('hidden text'))
  const visible = await client.request({ type: 'update', resource: 'notes', id: 'y', data: { body: 'new' }, ifVersion: 'stale' })
  t.match(visible, { code: 'CONFLICT', details: { data: { body: 'visible text' } } }, 'a readable record still comes with the conflict')
  t.equal((await db.resources.notes!.get('x')).body, 'hidden text', 'nothing written')
})

t.test('a filter larger than 16 KB is refused (a subscription keeps it for its lifetime)', async (t) => {
  const { as } = await app(t, [{ name: 'notes', attributes: { body: 'string|optional' } } as Definition], { notes: true })
  const client = await as({ sub: 'u' })
  const big = { body: { $in: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(1000, 'x')) } }
  t.match(await client.request({ type: 'subscribe', resource: 'notes', filter: big }), { code: 'INVALID_REQUEST', details: { field: '/filter' } })
  t.equal((await client.request({ type: 'subscribe', resource: 'notes', filter: { body: { $in: ['a', 'b'] } } })).type, 'subscribed')
})

t.test('partition values and ids that s3db or a file system would trim are refused', async (t) => {
  const { db, as } = await app(t, [{
    name: 'docs',
    attributes: { channel: 'string|optional' },
    partitions: { byChannel: { fields: { channel: 'string' } } }
  } as Definition], { docs: { clientIds: true } })
  const client = await as({ sub: 'u' })
  for (const channel of [' a.meta.json ', 'a ', ' a']) {
    t.match(await client.request({ type: 'insert', resource: 'docs', data: { channel } }), { code: 'INVALID_REQUEST' }, `channel ${JSON.stringify(channel)}`)
  }
  for (const id of ['a.meta.json ', 'a ', 'a.']) {
    t.match(await client.request({ type: 'insert', resource: 'docs', data: { id, channel: 'c' } }), { code: 'INVALID_REQUEST' }, `id ${JSON.stringify(id)}`)
  }
  t.equal((await db.resources.docs!.list()).length, 0, 'nothing stored')
})

// Sixth round (re-check of the fifth's fixes).

t.test('a whole protected free-form object: filters on the names s3db flattens its fields to are refused too', async (t) => {
  const { db, as } = await app(t, [{ name: 'people', attributes: { name: 'string|optional', profile: 'any|optional' } } as Definition], { people: { protected: ['profile'] } })
  await db.resources.people!.insert({ id: 'p', name: 'ann', profile: { pin: '73914', ssn: '123-45-6789' } })
  const client = await as({ sub: 'u' })
  const read = await client.request({ type: 'get', resource: 'people', id: 'p' })
  t.notOk(JSON.stringify(read).includes('73914'), 'the value never leaves')
  for (const filter of [{ profile_pin: '73914' }, { profile_pin: { $exists: true } }, { PROFILE_SSN: { $gt: '1' } }]) {
    t.match(await client.request({ type: 'list', resource: 'people', filter }), { code: 'FORBIDDEN' }, JSON.stringify(filter))
  }
  t.equal((await client.request({ type: 'list', resource: 'people', filter: { name: 'ann' } })).type, 'data', 'other filters still work')
})

t.test('a protected path through an array of a flattened object (profile.items.pin, stored as profile_items) is stripped', async (t) => {
  const { db, as } = await app(t, [{ name: 'people', attributes: { name: 'string|optional', profile: 'any|optional' } } as Definition], { people: { protected: ['profile.items.pin'] } })
  const client = await as({ sub: 'u' })
  await client.request({ type: 'subscribe', resource: 'people' })
  await db.resources.people!.insert({ id: 'p', name: 'ann', profile: { items: [{ pin: '5678', label: 'home' }] } })
  const event = await client.waitType('event')
  const read = await client.request({ type: 'get', resource: 'people', id: 'p' })
  const list = await client.request({ type: 'list', resource: 'people' })
  for (const [what, payload] of [['event', event], ['get', read], ['list', list]] as const) {
    t.notOk(JSON.stringify(payload).includes('5678'), `${what}: the pin never leaves`)
  }
  t.ok(JSON.stringify(read).includes('home'), 'the rest of the array is sent')
  t.match(await client.request({ type: 'list', resource: 'people', filter: { 'profile_items.pin': '5678' } }), { code: 'FORBIDDEN' })
})

t.test('a protected field of a free-form object cannot be written under another letter case', async (t) => {
  const { db, as } = await app(t, [{ name: 'notes', attributes: { extra: 'object|optional' } } as Definition], { notes: { protected: ['extra.pin'] } })
  const client = await as({ sub: 'u' })
  for (const data of [{ extra: { PIN: 'x' } }, { extra: { Pin: 'x', other: 1 } }]) {
    t.match(await client.request({ type: 'insert', resource: 'notes', data }), { code: 'FORBIDDEN' }, JSON.stringify(data))
  }
  t.equal((await db.resources.notes!.list()).length, 0)
})

// Seventh round: one stored field, spelled differently in the protected path and in the data.

t.test('a protected path is matched by the stored name it adds up to, however the data nests it (profile.pin_code vs profile: {pin: {code}})', async (t) => {
  const { db, as } = await app(t, [{ name: 'people', attributes: { name: 'string|optional', profile: 'any|optional', cfg: 'any|optional' } } as Definition], {
    people: { protected: ['profile.pin_code', 'cfg.api.key'] }
  })
  const people = db.resources.people!
  await people.insert({ id: 'p', name: 'ann', profile: { pin: { code: 'S3CR-1' } }, cfg: { api_key: 'K3Y-1' } })
  const plain = await as({ sub: 'u' })
  const delta = await as({ sub: 'd' })
  const subscribed = await plain.request({ type: 'subscribe', resource: 'people' })
  await delta.request({ type: 'subscribe', resource: 'people', delta: true })
  await people.update('p', { name: 'ann 2', profile: { pin: { code: 'S3CR-2' } }, cfg: { api_key: 'K3Y-2' } })
  const event = await plain.waitType('event')
  const change = await delta.waitType('event')
  const read = await plain.request({ type: 'get', resource: 'people', id: 'p' })
  const list = await plain.request({ type: 'list', resource: 'people' })
  const again = await as({ sub: 'r' })
  await again.request({ type: 'subscribe', resource: 'people', since: subscribed.seq, epoch: subscribed.epoch })
  const replayed = await again.waitType('event')
  for (const [what, payload] of [['event', event], ['delta', change], ['get', read], ['list', list], ['replay', replayed]] as const) {
    const text = JSON.stringify(payload)
    t.notOk(text.includes('S3CR') || text.includes('K3Y'), `${what}: no protected value`)
  }
  t.ok(JSON.stringify(read).includes('ann 2'), 'the rest is sent')
  for (const path of ['profile.pin.code', 'profile.pin_code', 'profile_pin_code', 'cfg.api_key', 'cfg_api_key', 'cfg.api.key']) {
    t.match(await plain.request({ type: 'list', resource: 'people', filter: { [path]: { $prefix: 'S' } } }), { code: 'FORBIDDEN' }, `no filter on ${path}`)
  }
})

t.test('declared attributes whose names extend a protected one: judged by their own name; flattened fields only where s3db cannot have put a protected one', async (t) => {
  const { db, as } = await app(t, [{
    name: 'people',
    attributes: { profile: 'any|optional', profile_visibility: 'string|optional', email: 'string|optional', email_prefs: 'any|optional' }
  } as Definition], { people: { protected: ['profile', 'email'] } })
  await db.resources.people!.insert({ id: 'p', profile: { pin: '1' }, profile_visibility: 'public', email: 'a@b.c', email_prefs: { digest: 'weekly' } })
  const client = await as({ sub: 'u' })
  const read = await client.request({ type: 'get', resource: 'people', id: 'p' })
  const text = JSON.stringify(read.data)
  t.ok(text.includes('public'), 'a declared attribute next to a protected any field is sent')
  t.ok(text.includes('weekly'), 'the fields of an any next to a protected string are sent (a string is never flattened)')
  t.notOk(text.includes('a@b.c') || text.includes('profile_pin'), 'the protected ones are not')
  t.equal((await client.request({ type: 'list', resource: 'people', filter: { profile_visibility: 'public' } })).type, 'data', 'and can be filtered on')
  t.equal((await client.request({ type: 'list', resource: 'people', filter: { email_prefs_digest: 'weekly' } })).type, 'data')
})

t.test('a flattened key under a protected any field is protected even when a declared attribute has a longer name (stripe_customer)', async (t) => {
  const { db, as } = await app(t, [{ name: 'accounts', attributes: { stripe: 'any|optional', stripe_customer: 'string|optional' } } as Definition], { accounts: { protected: ['stripe'] } })
  await db.resources.accounts!.insert({ id: 'a', stripe: { customer: { secret: 'sk_live_1' } }, stripe_customer: 'cus_1' })
  const client = await as({ sub: 'u' })
  const read = await client.request({ type: 'get', resource: 'accounts', id: 'a' })
  t.notOk(JSON.stringify(read).includes('sk_live'), 'the secret never leaves')
  t.match(await client.request({ type: 'list', resource: 'accounts', filter: { stripe_customer_secret: { $prefix: 'sk_' } } }), { code: 'FORBIDDEN' })
})

t.test('array indexes: number keys under a protected path, and protected paths written with an index', async (t) => {
  const { db, as } = await app(t, [{ name: 'things', attributes: { p: 'any|optional', r: 'any|optional' } } as Definition], { things: { protected: ['p.items.pin', 'r.0.pin'] } })
  const things = db.resources.things!
  await things.insert({ id: 'a', p: { items: { 0: { pin: 'P1N-0', label: 'zero' }, 1: { pin: 'P1N-1' } } }, r: [{ pin: 'P1N-R', label: 'first' }] })
  const client = await as({ sub: 'u' })
  await client.request({ type: 'subscribe', resource: 'things' })
  await things.update('a', { p: { items: { 0: { pin: 'P1N-2', label: 'zero' } } } })
  const event = await client.waitType('event')
  const read = await client.request({ type: 'get', resource: 'things', id: 'a' })
  for (const [what, payload] of [['event', event], ['get', read]] as const) t.notOk(JSON.stringify(payload).includes('P1N'), `${what}: no pin`)
  t.ok(JSON.stringify(read).includes('first'), 'the rest is sent')
  t.match(await client.request({ type: 'list', resource: 'things', filter: { p_items_1_pin: { $prefix: 'P' } } }), { code: 'FORBIDDEN' })
})

t.test('a protected field cannot be written under a spelling that adds up to its stored name', async (t) => {
  const { db, as } = await app(t, [{ name: 'notes', attributes: { extra: 'object|optional' } } as Definition], { notes: { protected: ['extra.pin_code'] } })
  const client = await as({ sub: 'u' })
  for (const data of [{ extra: { pin: { code: 'x' } } }, { extra: { 'PIN CODE': 'x' } }, { extra: { Pin_Code: 'x' } }]) {
    const reply = await client.request({ type: 'insert', resource: 'notes', data })
    t.equal(reply.code, 'FORBIDDEN', JSON.stringify(data))
  }
  t.equal((await db.resources.notes!.list()).length, 0)
})

// Ninth round.

t.test('a protected object declared without props ({type: "object"}), which s3db flattens, is hidden under its flattened names', async (t) => {
  const { db, as } = await app(t, [{ name: 'accounts', attributes: { name: 'string|optional', billing: { type: 'object', optional: true } } } as Definition], { accounts: { protected: ['billing'] } })
  await db.resources.accounts!.insert({ id: 'a', name: 'x', billing: { card: { number: '4242-S3CR' }, cvv: 'S3CR-1' } })
  const client = await as({ sub: 'u' })
  const read = await client.request({ type: 'get', resource: 'accounts', id: 'a' })
  const list = await client.request({ type: 'list', resource: 'accounts' })
  for (const payload of [read, list]) t.notOk(JSON.stringify(payload).includes('S3CR'), 'no billing value')
  for (const filter of [{ billing_cvv: { $prefix: 'S' } }, { billing_card_number: { $exists: true } }]) {
    t.match(await client.request({ type: 'list', resource: 'accounts', filter }), { code: 'FORBIDDEN' }, JSON.stringify(filter))
  }
})
