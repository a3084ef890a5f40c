import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { partsOf } from '../helpers/hub.js'

/*
 * Fan-out writes one pre-built frame to every uncompressed socket (src/connection/prepared-frame.ts)
 * through ws's own sender; compressed sockets go through ws.send. Both must receive exactly what
 * was sent, whatever the length (the three header sizes) and characters (multi-byte UTF-8).
 */
const texts = ['short', 'é'.repeat(100), '😀'.repeat(40), 'x'.repeat(70_000), `mixed ${'ü€😀'.repeat(20_000)}`]

t.test('every payload size and character reaches compressed and uncompressed sockets intact', async (t) => {
  const { app, url } = await buildApp(t, { compression: { threshold: 0 } })
  const plain = (await connect(url, { perMessageDeflate: false })).client
  const deflated = (await connect(url, { perMessageDeflate: true })).client
  t.teardown(() => { plain.close(); deflated.close() })

  // Count the frames that went through ws.send (the path not pre-framed), per server-side socket.
  const viaSend = new Map<string, number>()
  for (const connection of partsOf(app).hub.connections.values()) {
    const socket = connection.socket
    const original = socket.send.bind(socket)
    viaSend.set(connection.id, 0)
    socket.send = ((...args: Parameters<typeof socket.send>) => {
      viaSend.set(connection.id, (viaSend.get(connection.id) ?? 0) + 1)
      original(...args)
    }) as typeof socket.send
  }
  for (const [i, text] of texts.entries()) app.realtime.broadcast({ type: 'note', i, text })
  for (const client of [plain, deflated]) {
    for (const [i, text] of texts.entries()) {
      const note = await client.waitFor((m) => m.type === 'note' && m.i === i)
      t.equal(note.text, text, `payload ${i} intact`)
    }
  }
  const counts = [...viaSend.values()].sort((a, b) => a - b)
  t.same(counts, [0, texts.length], 'the uncompressed socket got every broadcast pre-framed; the compressed one through ws.send')
  t.equal(plain.socket.extensions, '', 'no extension on the plain socket')
  t.match(deflated.socket.extensions, /permessage-deflate/)
})
