import t from 'tap'
import type { WebSocket } from 'ws'
import { Connection } from '../../src/connection/connection.js'
import { Heartbeat } from '../../src/connection/heartbeat.js'
import { tagSocket } from '../../src/connection/tag.js'
import { until } from '../helpers/wait.js'
import { recordingLog } from './doubles.js'

/** The part of a ws socket the heartbeat uses; `answers` sockets pong every ping on the next turn. */
class PingedSocket {
  pings = 0
  private onPong: (() => void) | null = null
  constructor (readonly answers: boolean) {}
  on (event: string, listener: () => void): this {
    if (event === 'pong') this.onPong = listener.bind(this)
    return this
  }

  ping (): void {
    this.pings++
    if (this.answers) setImmediate(() => this.onPong?.())
  }
}

function connection (id: string, answers: boolean): { connection: Connection, socket: PingedSocket } {
  const socket = new PingedSocket(answers)
  const made = new Connection({ id, socket: socket as unknown as WebSocket, user: null, metadata: {}, log: recordingLog().log, counters: { messagesSent: 0 } })
  tagSocket(socket as unknown as WebSocket, made)
  return { connection: made, socket }
}

t.test('a socket that never pongs is dead once its ping is older than the timeout; one that pongs never is', async (t) => {
  const alive = connection('alive', true)
  const silent = connection('silent', false)
  const dead: string[] = []
  const heartbeat = new Heartbeat(() => [alive.connection, silent.connection], 10, 40, (c) => { dead.push(c.id) })
  t.teardown(() => { heartbeat.stop() })
  for (const c of [alive, silent]) heartbeat.watch(c.connection)
  heartbeat.start()

  await until(() => silent.socket.pings === 1, 'the first sweep')
  // The pending ping is a sweep number: a small integer kept in the object (a millisecond
  // timestamp there would be boxed, 16 bytes more per idle socket).
  t.ok(Number.isInteger(silent.connection.pendingPing) && silent.connection.pendingPing > 0, 'the silent socket owes the pong of a sweep')
  await until(() => dead.includes('silent'), 'the silent socket declared dead')
  t.equal(silent.socket.pings, 1, 'a socket that owes a pong is not pinged again')
  await until(() => alive.socket.pings >= 5, 'several sweeps answered')
  t.notOk(dead.includes('alive'), 'the answering socket is never declared dead')
  heartbeat.stop()
  await until(() => alive.connection.pendingPing === 0, 'the last pong to arrive')
  t.equal(alive.connection.pendingPing, 0, 'a pong clears the pending ping')
})
