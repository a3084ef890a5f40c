/**
 * Compile-time checks of typed client filters (issue #15 section 5), compiled by `npm run
 * typecheck`: every line under `@ts-expect-error` must fail to type-check, every other line must
 * pass. Not a tap test; nothing here runs.
 */
import type { RealtimeClient } from '../../src/client/index.js'

interface Todo {
  title: string
  done: boolean
  priority?: number
  dueAt?: string
  tags: string[]
  author: { name: string, team: { id: string } }
  createdAt: Date
}

type Records = { todos: Todo }

export async function typedFilterChecks (client: RealtimeClient<Records>): Promise<void> {
  const noop = (): void => {}

  // Fields, dot paths, the id, and every operator with a value of the field's type.
  await client.subscribe('todos', { filter: { title: 'x', done: false } }, noop)
  await client.subscribe('todos', { filter: { id: { $in: ['a', 'b'] } } }, noop)
  await client.subscribe('todos', { filter: { 'author.name': { $prefix: 'A' }, 'author.team.id': 't1' } }, noop)
  await client.subscribe('todos', { filter: { priority: { $gte: 1, $lt: 5 }, done: { $ne: true } } }, noop)
  await client.subscribe('todos', { filter: { dueAt: { $exists: false }, title: { $nin: ['a'] } } }, noop)
  await client.subscribe('todos', { filter: { createdAt: { $gte: '2024-01-01T00:00:00.000Z' } } }, noop)
  await client.listAll('todos', { filter: { title: { $gt: 'm' } } })
  await client.listPage('todos', { filter: { done: true } })

  // @ts-expect-error `titel` is not a field of Todo
  await client.subscribe('todos', { filter: { titel: 'x' } }, noop)
  // @ts-expect-error `done` is a boolean
  await client.subscribe('todos', { filter: { done: 'yes' } }, noop)
  // @ts-expect-error list filters are typed too
  await client.listAll('todos', { filter: { done: 'yes' } })
  // @ts-expect-error no such nested path
  await client.subscribe('todos', { filter: { 'author.nme': 'A' } }, noop)
  // @ts-expect-error `author.name` is a string
  await client.subscribe('todos', { filter: { 'author.name': 1 } }, noop)
  // @ts-expect-error a range on a number field takes a number
  await client.subscribe('todos', { filter: { priority: { $gt: '1' } } }, noop)
  // @ts-expect-error `$prefix` is for string fields
  await client.subscribe('todos', { filter: { priority: { $prefix: '1' } } }, noop)
  // @ts-expect-error `$in` lists values of the field's type
  await client.subscribe('todos', { filter: { done: { $in: ['yes'] } } }, noop)
  // @ts-expect-error `$exists` takes a boolean
  await client.subscribe('todos', { filter: { dueAt: { $exists: 1 } } }, noop)
  // @ts-expect-error unknown operator
  await client.subscribe('todos', { filter: { title: { $like: 'x' } } }, noop)
  // @ts-expect-error an array field is not compared by value (only `$exists`)
  await client.subscribe('todos', { filter: { tags: 'a' } }, noop)
  await client.subscribe('todos', { filter: { tags: { $exists: true } } }, noop)
}

/** The untyped client keeps taking any filter, operators included. */
export async function untypedFilterChecks (client: RealtimeClient): Promise<void> {
  await client.subscribe('anything', { filter: { whatever: 1, 'a.b': { $gt: 2 } } }, () => {})
  await client.listAll('anything', { filter: { x: { $in: [1, 'a', null] } } })
  // @ts-expect-error operators still have their operand types
  await client.listAll('anything', { filter: { x: { $in: 1 } } })
}

/** `fields` names the record's fields and dot paths. */
export async function typedFieldChecks (client: RealtimeClient<Records>): Promise<void> {
  await client.subscribe('todos', { fields: ['id', 'title', 'author.name'] }, () => {})
  await client.listAll('todos', { fields: ['done'] })
  await client.get('todos', 'id', { fields: ['author.team.id'] })
  // @ts-expect-error `titel` is not a field of Todo
  await client.subscribe('todos', { fields: ['titel'] }, () => {})
  // @ts-expect-error no such nested path
  await client.get('todos', 'id', { fields: ['author.nme'] })
}
