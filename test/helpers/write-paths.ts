import type { Db } from './db.js'

type Messages = NonNullable<Db['resources']['messages']>

/**
 * Runs every s3db write path once on `messages` (insert, insertMany, upsert twice, update, patch,
 * replace, updateConditional, delete, deleteMany), then inserts `end` as a marker. Records `i`
 * (updated five ways) and `end` remain.
 */
export async function runEveryWritePath (m: Messages): Promise<void> {
  const d = { content: 'x', channel: 'g' }
  await m.insert({ id: 'i', ...d })
  await m.insertMany([{ id: 'im1', ...d }, { id: 'im2', ...d }])
  await m.upsert({ id: 'u', ...d })
  await m.upsert({ id: 'u', ...d, content: 'again' })
  await m.update('i', { content: 'upd' })
  await m.patch('i', { content: 'pat' })
  await m.replace('i', { ...d, content: 'rep' })
  const current = await m.get('i')
  await m.updateConditional('i', { content: 'cond' }, { ifMatch: current._etag as string })
  await m.delete('im1')
  await m.deleteMany(['im2', 'u'])
  await m.insert({ id: 'end', ...d })
}
