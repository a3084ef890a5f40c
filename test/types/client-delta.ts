/**
 * Compile-time checks of the typed client's delta subscriptions (issue #15 section 3), compiled
 * by `npm run typecheck`: every line under `@ts-expect-error` must fail to type-check, every
 * other line must pass. Not a tap test; nothing here runs.
 */
import type { RealtimeClient } from '../../src/client/index.js'

interface Todo { title: string, done: boolean, meta?: { tag: string } }
type Records = { todos: Todo }

export async function deltaChecks (client: RealtimeClient<Records>): Promise<void> {
  // The handler still receives whole, typed records: changes never reach the application.
  await client.subscribe('todos', { filter: { done: false }, fields: ['title', 'meta.tag'], delta: true }, (event) => {
    if (event.event === 'snapshot') {
      const titles: string[] = event.data.map((todo) => todo.title)
      void titles
    } else if (event.event !== 'reset') {
      const done: boolean = event.data.done
      void done
      // @ts-expect-error no changes on the events the handler gets
      void event.changes
    }
  })
  // @ts-expect-error delta is a boolean
  await client.subscribe('todos', { delta: 'yes' }, () => {})
}
