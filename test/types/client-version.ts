/**
 * Compile-time checks of the typed client's conditional updates (issue #15 section 4), compiled
 * by `npm run typecheck`: every line under `@ts-expect-error` must fail to type-check, every
 * other line must pass. Not a tap test; nothing here runs.
 */
import { ConflictError, RealtimeError, type RealtimeClient, type Versioned } from '../../src/client/index.js'

interface Todo { title: string, done: boolean }
type Records = { todos: Todo }

export async function versionChecks (client: RealtimeClient<Records>): Promise<void> {
  const read: Versioned<Todo & { id: string }> = await client.getWithVersion('todos', 't1', { fields: ['title'] })
  const version: string = read.version
  const title: string = read.data.title

  // update keeps its old form, and takes ifVersion.
  const updated: Todo & { id: string } = await client.update('todos', 't1', { done: true })
  await client.update('todos', 't1', { done: true }, { ifVersion: version })
  const next: string = (await client.updateWithVersion('todos', 't1', { title }, { ifVersion: version })).version
  // @ts-expect-error ifVersion is a string
  await client.update('todos', 't1', { done: true }, { ifVersion: 3 })
  // @ts-expect-error an unknown option
  await client.update('todos', 't1', { done: true }, { ifMatch: version })
  // @ts-expect-error the data is still typed by the record
  await client.updateWithVersion('todos', 't1', { done: 'yes' }, { ifVersion: next })

  const page = await client.listPage('todos')
  const versions: Record<string, string> = page.versions
  await client.subscribe('todos', {}, (event) => {
    if (event.event === 'update') {
      const eventVersion: string | undefined = event.version
      void eventVersion
    }
  })

  try {
    await client.update('todos', updated.id, { done: false }, { ifVersion: versions[updated.id] })
  } catch (error) {
    if (error instanceof ConflictError) {
      const current: string = error.version
      const record: Record<string, unknown> = error.current
      const isRealtimeError: RealtimeError = error
      void [current, record, isRealtimeError]
    }
  }
}
