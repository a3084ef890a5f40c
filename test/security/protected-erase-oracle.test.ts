import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { createDatabase, type Db } from '../helpers/db.js'

// Attack review round 3, finding 2: an update replacing the parent of a protected path was
// FORBIDDEN only when the protected child was stored, so two records that look identical to the
// caller answered differently and told it whether the hidden value exists. The decision now
// depends on the request's shape and the protected paths alone.

t.test('replacing a parent of a protected path answers the same whether the hidden value is stored or not', async (t) => {
  const db = await createDatabase(t, { resources: false })
  await db.createResource({
    name: 'carts',
    attributes: { title: 'string|optional', items: 'array|optional', secret: { pin: 'string|optional', note: 'string|optional' } }
  } as Parameters<Db['createResource']>[0])
  const { client } = await buildApp(t, { resources: { carts: { protected: ['items.secret', 'secret.pin'] } } }, { db })
  const carts = db.resources.carts!
  await carts.insert({ id: 'with', title: 't', items: [{ sku: 'a', secret: 's' }], secret: { pin: '1111', note: 'n' } })
  await carts.insert({ id: 'without', title: 't', items: [{ sku: 'a' }], secret: { note: 'n' } })
  const c = await client()
  const seen = async (id: string): Promise<unknown> => { const { data } = await c.request({ type: 'get', resource: 'carts', id }); return { ...data, id: 'x' } }
  t.same(await seen('with'), await seen('without'), 'the two records look identical to the caller')

  for (const data of [{ items: [{ sku: 'a' }] }, { items: [] }, { items: null }, { secret: null }]) {
    const answers = []
    for (const id of ['with', 'without']) {
      const reply = await c.request({ type: 'update', resource: 'carts', id, data })
      answers.push({ ...reply, requestId: 0 })
    }
    t.match(answers[0], { type: 'error', code: 'FORBIDDEN' }, `update ${JSON.stringify(data)} is refused`)
    t.same(answers[0], answers[1], `update ${JSON.stringify(data)}: the same answer for both records`)
  }
  t.same((await carts.get('with')).items, [{ sku: 'a', secret: 's' }], 'nothing erased')
  t.equal(((await carts.get('with')).secret as { pin?: string }).pin, '1111')

  for (const id of ['with', 'without']) {
    const sibling = await c.request({ type: 'update', resource: 'carts', id, data: { secret: { note: 'changed' }, title: 'u' } })
    t.equal(sibling.type, 'updated', `${id}: a sibling inside the merged object stays writable`)
  }
  t.same((await carts.get('with')).secret, { pin: '1111', note: 'changed' }, 's3db merged the object; the pin survived')
})
