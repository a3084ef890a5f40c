// A load-client process (run.mjs starts two). It opens sockets, subscribes them, and checks
// every delivery against what was published: each event is expected by exactly the
// connections whose subscription matches it; anything else is misrouted, a repeat is a
// duplicate, and an expected event never seen is lost.
import { BenchConnection, notices } from './lib/conn.mjs'
import { Histogram } from './lib/histogram.mjs'
import { runCrud } from './lib/crud.mjs'
import { channelOf, eventRecord, inBatches, ipcServe, now, RANGE, signToken, sleep } from './lib/common.mjs'

const subscribers = []
const writers = []
let armed = null
const totals = { received: 0, duplicated: 0, misrouted: 0, firstAt: null, lastAt: null }
let histogram = new Histogram()

function onEvent (conn, msg) {
  const at = now()
  const data = msg.data
  const index = armed === null || typeof data?.n !== 'number' ? -1 : data.n - armed.base
  const event = index >= 0 && index < armed.events.length ? armed.events[index] : null
  if (event === null || !conn.wants(event) || msg.resource !== event.resource) {
    totals.misrouted++
    return
  }
  if (conn.seen[index] === 1) {
    totals.duplicated++
    return
  }
  conn.seen[index] = 1
  totals.received++
  totals.firstAt ??= at
  totals.lastAt = at
  histogram.record(at - data.t0)
}

/** Opens indices from, from+step, … below `to` (step 2 interleaves two instances' clients). */
/** `deflate` offers permessage-deflate; `deflated` counts the sockets that negotiated it. */
async function openMany (url, from, to, subscribe, step = 1, deflate = false) {
  let failures = 0
  let authenticated = 0
  let deflated = 0
  await inBatches(Math.ceil((to - from) / step), 64, async (k) => {
    const i = from + k * step
    try {
      const conn = await BenchConnection.open(url, await signToken(`user-${i}`), onEvent, 30_000, deflate)
      if (conn.user !== null) authenticated++
      if (conn.deflated) deflated++
      if (subscribe) {
        const channel = channelOf(i)
        const reply = await conn.request({ type: 'subscribe', resource: 'messages', filter: { channel } })
        if (reply.type !== 'subscribed') throw new Error(`subscribe failed: ${JSON.stringify(reply)}`)
        conn.channel = channel
        subscribers.push(conn)
      } else {
        writers.push(conn)
      }
    } catch (error) {
      failures++
      if (failures === 1) process.emitWarning(`connection ${i} failed: ${error.message}`)
    }
  })
  return { failures, authenticated, deflated }
}

ipcServe({
  connect: ({ url, from, to, step, deflate }) => openMany(url, from, to, true, step, deflate),
  writers: ({ url, count }) => openMany(url, 0, count, false),
  subscribeFeed: async () => {
    let failures = 0
    await inBatches(subscribers.length, 64, async (k) => {
      const conn = subscribers[k]
      const reply = await conn.request({ type: 'subscribe', resource: 'feed' })
      if (reply.type === 'subscribed') conn.feed = true
      else failures++
    })
    return { failures }
  },
  /** Scenario (c2): every subscriber not yet on `ranged` subscribes with its channel AND RANGE. */
  subscribeRanged: async () => {
    let failures = 0
    const pending = subscribers.filter((conn) => !conn.ranged)
    await inBatches(pending.length, 64, async (k) => {
      const conn = pending[k]
      const reply = await conn.request({ type: 'subscribe', resource: 'ranged', filter: { channel: conn.channel, n: RANGE } })
      if (reply.type === 'subscribed') conn.ranged = true
      else failures++
    })
    return { failures }
  },
  /** Declares the events about to be published (consecutive `n` from `base`). */
  arm: ({ events }) => {
    armed = { base: events[0].n, events }
    for (const conn of [...subscribers, ...writers]) conn.seen = new Uint8Array(events.length)
    Object.assign(totals, { received: 0, duplicated: 0, misrouted: 0, firstAt: null, lastAt: null })
    histogram = new Histogram()
    let expected = 0
    for (const conn of subscribers) for (const event of events) if (conn.wants(event)) expected++
    return { expected }
  },
  status: () => ({ received: totals.received }),
  /** Final counts for the armed events; `lost` = expected deliveries never seen. */
  report: () => {
    let lost = 0
    if (armed !== null) {
      for (const conn of subscribers) {
        armed.events.forEach((event, i) => { if (conn.wants(event) && conn.seen[i] !== 1) lost++ })
      }
    }
    const noticeCounts = { ...notices }
    for (const code of Object.keys(notices)) delete notices[code]
    return { ...totals, lost, notices: noticeCounts, histogram: histogram.toJSON() }
  },
  /** Write-to-screen through the socket: sequential inserts stamped with t0 before sending. */
  socketInserts: async ({ events, gapMs }) => {
    const writer = writers[0]
    let failures = 0
    for (const e of events) {
      const reply = await writer.request({ type: 'insert', resource: e.resource, data: eventRecord(e.n, e.channel) })
      if (reply.type !== 'inserted') failures++
      await sleep(gapMs)
    }
    return { failures }
  },
  crud: (params) => runCrud(params),
  close: () => {
    for (const conn of [...subscribers, ...writers]) conn.close()
    setTimeout(() => process.exit(0), 50)
    return true
  }
})
process.send({ ready: true })
