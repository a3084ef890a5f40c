import type { Dispatcher } from './dispatcher.js'
import { handleDelete, handleGet, handleInsert, handleList, handleUpdate } from './handlers/records.js'
import { handleSubscribe, handleUnsubscribe } from './handlers/subscriptions.js'
import { Schemas } from './schemas.js'

/** The message types of the foundation; feature modules register theirs the same way. */
export function registerCoreMessages (dispatcher: Dispatcher): void {
  dispatcher.register('ping', Schemas.ping, (ctx) => { ctx.reply({ type: 'pong', timestamp: new Date().toISOString() }) })
  dispatcher.register('subscribe', Schemas.subscribe, handleSubscribe)
  dispatcher.register('unsubscribe', Schemas.unsubscribe, handleUnsubscribe)
  dispatcher.register('get', Schemas.get, handleGet)
  dispatcher.register('list', Schemas.list, handleList)
  dispatcher.register('insert', Schemas.insert, handleInsert)
  dispatcher.register('update', Schemas.update, handleUpdate)
  dispatcher.register('delete', Schemas.delete, handleDelete)
}
