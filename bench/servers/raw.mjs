// The floor: plain `ws` on node:http, written the way a careful hand-rolled server would be:
// JWT checked on upgrade, a room index (resource + channel -> sockets), one JSON.stringify per
// event, one heartbeat sweep for all sockets. It speaks just enough of the s3db-realtime
// protocol (connected, subscribe, insert, get, event) for the shared load client.
// `fire(resource, record, framed)` with framed = true is the "pre-framed" variant of the floor:
// the WebSocket frame is built once per event and the same buffers are written to every
// recipient through ws's sender (as Socket.IO's engine does), instead of `ws.send(string)`,
// which measures, frames and UTF-8-encodes the string again for each socket.
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import { Sender, WebSocketServer } from 'ws'
import { JWT_SECRET } from '../lib/common.mjs'

const ALL = '*'
const TEXT_FRAME = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false }

export async function startRaw ({ db, port }) {
  const { createVerifier } = await import('fast-jwt')
  const verify = createVerifier({ key: JWT_SECRET })
  const rooms = new Map()
  const sockets = new Set()
  const seqs = new Map()
  const server = http.createServer((req, res) => { res.writeHead(426).end() })
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })

  server.on('upgrade', (req, socket, head) => {
    const header = req.headers.authorization ?? ''
    let user
    try {
      const claims = verify(header.replace(/^Bearer\s+/i, ''))
      user = { id: claims.sub, role: claims.role }
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => { accept(ws, user) })
  })

  function join (ws, key) {
    let room = rooms.get(key)
    if (room === undefined) rooms.set(key, room = new Set())
    room.add(ws)
    ws.rooms.push(key)
  }

  function accept (ws, user) {
    ws.user = user
    ws.rooms = []
    ws.alive = true
    sockets.add(ws)
    ws.on('pong', () => { ws.alive = true })
    ws.on('close', () => {
      sockets.delete(ws)
      for (const key of ws.rooms) rooms.get(key)?.delete(ws)
    })
    ws.on('error', () => {})
    ws.on('message', (data) => { handle(ws, data).catch(() => {}) })
    ws.send(JSON.stringify({ type: 'connected', clientId: randomUUID(), user, timestamp: new Date().toISOString() }))
  }

  async function handle (ws, data) {
    let msg
    try { msg = JSON.parse(data.toString()) } catch { return }
    const { requestId, resource } = msg
    const reply = (body) => { ws.send(JSON.stringify({ ...body, requestId })) }
    if (msg.type === 'subscribe') {
      join(ws, `${resource}\0${msg.filter?.channel ?? ALL}`)
      reply({ type: 'subscribed', resource, filter: msg.filter ?? {} })
    } else if (msg.type === 'insert') {
      const record = await db.resources[resource].insert(msg.data)
      reply({ type: 'inserted', resource, data: record })
      publish(resource, record)
    } else if (msg.type === 'get') {
      reply({ type: 'data', resource, data: await db.resources[resource].get(msg.id) })
    }
  }

  function publish (resource, record, framed = false) {
    const seq = (seqs.get(resource) ?? 0) + 1
    seqs.set(resource, seq)
    const json = JSON.stringify({ type: 'event', event: 'insert', resource, data: record, timestamp: new Date().toISOString(), seq })
    // The server offers no permessage-deflate, so every socket can take the same unmasked frame.
    const frame = framed ? Sender.frame(Buffer.from(json), TEXT_FRAME) : null
    for (const key of [`${resource}\0${record.channel}`, `${resource}\0${ALL}`]) {
      const room = rooms.get(key)
      if (room === undefined) continue
      if (frame === null) {
        for (const ws of room) if (ws.readyState === 1) ws.send(json)
      } else {
        for (const ws of room) if (ws.readyState === 1) ws._sender.sendFrame(frame)
      }
    }
  }

  const sweep = setInterval(() => {
    for (const ws of sockets) {
      if (!ws.alive) { ws.terminate(); continue }
      ws.alive = false
      ws.ping()
    }
  }, 30_000)
  sweep.unref()

  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    url: `ws://127.0.0.1:${server.address().port}/`,
    restUrl: null,
    fire: (resource, record, framed) => { publish(resource, record, framed) },
    afterDbWrite: (resource, record) => { publish(resource, record) },
    connections: () => sockets.size,
    close: async () => {
      clearInterval(sweep)
      for (const ws of sockets) ws.terminate()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
