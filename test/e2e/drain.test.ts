import type { Socket } from 'node:net'
import t from 'tap'
import { connect } from '../helpers/client.js'
import { spawnTs } from '../helpers/spawn.js'
import { tryUpgrade } from '../helpers/upgrade.js'

// The example imports the package by name ('s3db-realtime' -> dist/), so this runs against the
// build: `npm test` builds first.
const EXAMPLE = 'examples/server.ts'

t.test('example server on SIGTERM: clients get 1001, no new upgrades, s3db closed, exit 0 despite a stuck client', async (t) => {
  const server = await spawnTs(t, EXAMPLE, [], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATA_DIR: '' })
  const ws = server.base.replace(/^http:/, 'ws:') + '/ws'
  const { client: reader } = await connect(ws)
  await reader.request({ type: 'subscribe', resource: 'messages' })
  const inserted = await reader.request({ type: 'insert', resource: 'messages', data: { content: 'before shutdown', channel: 'general' } })
  t.equal(inserted.type, 'inserted')

  // A client that stopped reading never answers the close handshake; it must not hold the exit.
  const { client: stuck } = await connect(ws)
  ;(stuck.socket as unknown as { _socket: Socket })._socket.pause()

  server.child.kill('SIGTERM')
  const closed = await reader.closed
  t.equal(closed.code, 1001, 'going away')
  t.equal(closed.reason, 'Server shutting down')

  const late = await tryUpgrade(ws).catch((error: Error) => ({ status: 0, error }))
  t.not(late.status, 101, 'no new socket is accepted while draining')

  const exit = await server.exited
  t.equal(exit.code, 0, 'clean exit within the bound')
  const log = server.lines.join('\n')
  t.match(log, /"signal":"SIGTERM".*shutting down/)
  t.match(log, /did not close within drainTimeout; terminating/, 'the stuck socket was terminated, not waited for')
  t.match(log, /shutdown complete/, 's3db disconnected after the server closed')
})
