// A load-client socket: awaits the `connected` greeting, correlates replies by requestId, and
// hands every `event` frame to `onEvent`. The same code talks to all three systems.
import WebSocket from 'ws'
import { inRange } from './common.mjs'

let nextRequest = 0
/** Unsolicited `error` frames received by this process, by code. */
export const notices = {}

export class BenchConnection {
  constructor (ws, onEvent) {
    this.ws = ws
    this.onEvent = onEvent
    this.pending = new Map()
    this.user = null
    this.channel = null
    this.feed = false
    /** Subscribed to `ranged` with `{channel, n: RANGE}` (scenario c2). */
    this.ranged = false
    this.seen = null
  }

  /** `deflate` offers permessage-deflate (ws defaults); `conn.deflated` says if it was negotiated. */
  static open (url, token, onEvent, timeoutMs = 30_000, deflate = false) {
    return new Promise((resolve, reject) => {
      const headers = token === null ? {} : { authorization: `Bearer ${token}` }
      const ws = new WebSocket(url, { headers, perMessageDeflate: deflate })
      const conn = new BenchConnection(ws, onEvent)
      const timer = setTimeout(() => { ws.terminate(); reject(new Error('connect timeout')) }, timeoutMs)
      ws.once('unexpected-response', (req, res) => { clearTimeout(timer); reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)) })
      ws.once('error', (error) => { clearTimeout(timer); reject(error) })
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString())
        if (msg.type === 'event') return conn.onEvent(conn, msg)
        if (msg.type === 'connected') {
          clearTimeout(timer)
          conn.user = msg.user ?? null
          resolve(conn)
          return
        }
        if (msg.type === 'error' && msg.requestId === undefined) {
          // Unsolicited notices (RESYNC_REQUIRED, …) are counted so a report can explain losses.
          notices[msg.code] = (notices[msg.code] ?? 0) + 1
          return
        }
        const waiter = msg.requestId === undefined ? undefined : conn.pending.get(msg.requestId)
        if (waiter !== undefined) {
          conn.pending.delete(msg.requestId)
          waiter(msg)
        }
      })
      ws.on('close', () => {
        for (const waiter of conn.pending.values()) waiter({ type: 'error', code: 'CLOSED' })
        conn.pending.clear()
      })
    })
  }

  request (message, timeoutMs = 30_000) {
    const requestId = `r${++nextRequest}`
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId)
        resolve({ type: 'error', code: 'TIMEOUT' })
      }, timeoutMs)
      this.pending.set(requestId, (msg) => { clearTimeout(timer); resolve(msg) })
      this.ws.send(JSON.stringify({ ...message, requestId }))
    })
  }

  /** Whether this connection should receive the event described by `{resource, channel}`. */
  get deflated () {
    return this.ws.extensions.split(',').includes('permessage-deflate')
  }

  wants (event) {
    if (event.resource === 'feed') return this.feed
    if (event.resource === 'ranged') return this.ranged && event.channel === this.channel && inRange(event.n)
    return event.resource === 'messages' && event.channel === this.channel
  }

  close () {
    this.ws.terminate()
  }
}
