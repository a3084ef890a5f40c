// The wire log: every frame the page's client sends and receives, through a socket factory
// given to the typed client (the client itself is unchanged). Also the demo's connection
// controls: drop the socket and hold the reconnect, then show what the resume replayed.
import { $, el } from './ui.js'

const MAX_ENTRIES = 200

/** One line of summary: type, resource/channel, requestId, seq/epoch, code. */
function summary (frame) {
  const parts = [frame.type]
  if (frame.event !== undefined) parts.push(frame.event)
  if (frame.code !== undefined) parts.push(frame.code)
  if (frame.resource !== undefined) parts.push(frame.resource)
  if (frame.channel !== undefined) parts.push(frame.channel)
  if (frame.left === true) parts.push('left')
  if (frame.since !== undefined) parts.push(`since ${frame.since}`)
  if (frame.seq !== undefined) parts.push(`seq ${frame.seq}`)
  if (frame.epoch !== undefined) parts.push(`epoch ${String(frame.epoch).slice(0, 8)}…`)
  if (frame.requestId !== undefined) parts.push(`#${frame.requestId}`)
  return parts.join(' · ')
}

export class WireLog {
  constructor () {
    this.entries = []
    this.count = 0
    this.listeners = []
    this.hidePings = true
  }

  /** `listener(direction, frame)` for every frame in ('in') and out ('out'). */
  onFrame (listener) { this.listeners.push(listener) }

  add (direction, text) {
    let frame
    try { frame = JSON.parse(text) } catch { frame = { type: '(not JSON)', text: String(text) } }
    this.push({ direction, frame, text: String(text) })
    for (const listener of this.listeners) listener(direction, frame)
  }

  note (text) { this.push({ direction: 'note', frame: null, text }) }

  push (entry) {
    entry.n = ++this.count
    entry.time = new Date().toLocaleTimeString([], { hour12: false })
    this.entries.push(entry)
    if (this.entries.length > MAX_ENTRIES) this.entries.shift()
    const list = $('#wire-list')
    if (list === null) return
    list.prepend(this.render(entry))
    while (list.children.length > MAX_ENTRIES) list.lastElementChild.remove()
    $('#wire-count').textContent = `${this.count} frames, last ${Math.min(this.count, MAX_ENTRIES)} kept`
  }

  render (entry) {
    const arrow = { in: '←', out: '→', note: '•' }[entry.direction]
    const ping = entry.frame !== null && (entry.frame.type === 'ping' || entry.frame.type === 'pong')
    if (entry.frame === null) return el('li', { className: 'note' }, [el('span', { className: 'when', textContent: entry.time }), ` ${arrow} ${entry.text}`])
    const error = entry.frame.type === 'error'
    return el('li', { className: `${entry.direction}${error ? ' error' : ''}${ping ? ' ping' : ''}`, dataset: { type: entry.frame.type } }, [
      el('details', {}, [
        el('summary', {}, [el('span', { className: 'when', textContent: entry.time }), ` ${arrow} ${summary(entry.frame)}`]),
        el('pre', { textContent: JSON.stringify(entry.frame, null, 2) })
      ])
    ])
  }

  clear () {
    this.entries = []
    $('#wire-list').replaceChildren()
  }
}

/**
 * The page's connection: a socket factory that logs frames, and a gate the ticket provider
 * waits on, so a "dropped" page stays offline (the client shows `reconnecting`) until released.
 */
export class DemoConnection {
  constructor (wire) {
    this.wire = wire
    this.socket = null
    this.offline = false
    this.release = null
    this.online = Promise.resolve()
  }

  /** For createClient({ socketFactory }): the browser's WebSocket, with every frame logged. */
  factory () {
    return (url) => {
      const ws = new WebSocket(url)
      this.socket = ws
      // The URL carries a one-time ticket: shown redacted, like the server's logs do.
      this.wire.note(`opening ${new URL(url).pathname}?ticket=[redacted]`)
      const wrapper = {
        get readyState () { return ws.readyState },
        send: (data) => { this.wire.add('out', data); ws.send(data) },
        close: (code, reason) => ws.close(code, reason),
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null
      }
      ws.onopen = (event) => wrapper.onopen?.(event)
      ws.onmessage = (event) => { this.wire.add('in', event.data); wrapper.onmessage?.(event) }
      ws.onclose = (event) => {
        this.wire.note(`socket closed (${event.code}${event.reason === '' ? '' : ` ${event.reason}`})`)
        wrapper.onclose?.(event)
      }
      ws.onerror = (event) => wrapper.onerror?.(event)
      return wrapper
    }
  }

  /** Resolves when the page is not holding the connection down. */
  async waitOnline () { await this.online }

  /** Closes the socket as a network drop would; the client reconnects once `reconnect()` is called. */
  drop () {
    if (this.offline) return
    this.offline = true
    this.online = new Promise((resolve) => { this.release = resolve })
    this.wire.note('dropping the connection (the client will resume with since/epoch on reconnect)')
    this.socket?.close(4000, 'demo: connection dropped')
  }

  reconnect () {
    if (!this.offline) return
    this.offline = false
    this.release?.()
  }
}

/**
 * Watches resumes on the wire: a `subscribe` with `since` and the events the server replays
 * behind its reply (seq in (since, reply.seq]), per resource, so the page can say exactly what
 * was caught up. A RESYNC_REQUIRED answer means the client lists again instead.
 */
export class ResumeTracker {
  constructor (wire, onChange) {
    this.pending = new Map()
    this.resumes = new Map()
    this.onChange = onChange
    wire.onFrame((direction, frame) => { direction === 'out' ? this.sent(frame) : this.received(frame) })
  }

  reset () {
    this.resumes.clear()
    this.onChange(this.report())
  }

  sent (frame) {
    if (frame.type === 'subscribe' && typeof frame.since === 'number') this.pending.set(frame.requestId, { resource: frame.resource, since: frame.since })
  }

  received (frame) {
    const asked = this.pending.get(frame.requestId)
    if (asked !== undefined) {
      this.pending.delete(frame.requestId)
      const resume = this.resumes.get(asked.resource) ?? { since: asked.since, upTo: asked.since, seqs: new Set(), resync: false }
      resume.since = Math.min(resume.since, asked.since)
      if (frame.type === 'subscribed') resume.upTo = Math.max(resume.upTo, frame.seq)
      else if (frame.code === 'RESYNC_REQUIRED') resume.resync = true
      this.resumes.set(asked.resource, resume)
      this.onChange(this.report())
      return
    }
    if (frame.type !== 'event' || typeof frame.seq !== 'number') return
    const resume = this.resumes.get(frame.resource)
    if (resume === undefined || frame.seq <= resume.since || frame.seq > resume.upTo) return
    resume.seqs.add(frame.seq)
    this.onChange(this.report())
  }

  /** `[{resource, since, replayed: [seq…], resync}]` */
  report () {
    return [...this.resumes].map(([resource, r]) => ({ resource, since: r.since, replayed: [...r.seqs].sort((a, b) => a - b), resync: r.resync }))
  }
}
