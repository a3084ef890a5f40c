// Scenario (g): what `compression: true` costs. s3db-realtime runs twice with fresh processes,
// once without the option and once with it (default threshold), and the same clients offer
// permessage-deflate both times; every socket must have negotiated it exactly when the server
// offers it. Measured as in (a) (memory per idle connection at the top size) and (b) (full
// fan-out: server CPU per event and deliveries/s). The CPU is bracketed from before the first
// fire until the clients hold every delivery, because ws deflates on zlib's thread pool after
// the fire loop has moved on.
import { deliver, noticeText } from './scenarios.mjs'
import { spawnProc } from './procs.mjs'
import { channelOf } from './common.mjs'

export async function runCompression (compressed, config, log) {
  const system = compressed ? 'deflateOn' : 'deflateOff'
  const out = { system, scenarios: {}, memory: {}, failures: [] }
  const check = (name, r) => {
    for (const key of ['lost', 'duplicated', 'misrouted']) if (r[key] !== 0) out.failures.push(`${system} ${name}: ${r[key]} ${key}${noticeText(r)}`)
  }
  let n = compressed ? 3_000_000 : 2_000_000
  const makeEvents = (count, resource, channelFor) => Array.from({ length: count }, (_, k) => ({ n: n++, resource, channel: channelFor(k) }))
  const server = await spawnProc('server.mjs', compressed ? ['realtime', '--compression'] : ['realtime'], ['--expose-gc'])
  const clients = [await spawnProc('client.mjs'), await spawnProc('client.mjs')]
  const fire = (events) => server.rpc('fire', { events })
  try {
    const { url } = await server.rpc('info')
    let open = 0
    const openTo = async (size) => {
      const mid = open + Math.floor((size - open) / 2)
      const results = await Promise.all([
        clients[0].rpc('connect', { url, from: open, to: mid, deflate: true }),
        clients[1].rpc('connect', { url, from: mid, to: size, deflate: true })
      ])
      const failed = results.reduce((sum, r) => sum + r.failures, 0)
      const deflated = results.reduce((sum, r) => sum + r.deflated, 0)
      const wrong = compressed ? size - open - failed - deflated : deflated
      if (failed > 0) out.failures.push(`${system}: ${failed} connections failed at ${size}`)
      if (wrong > 0) out.failures.push(`${system}: ${wrong} connections ${compressed ? 'did not negotiate' : 'negotiated'} permessage-deflate`)
      out.deflated = (out.deflated ?? 0) + deflated
      open = size
    }
    const top = config.sizes[config.sizes.length - 1]
    await openTo(100)
    check('warm-up', await deliver(clients, makeEvents(config.events, 'messages', () => channelOf(0)), fire, 60_000))
    const base = await server.rpc('memory')
    log(`${system}: opening ${top} connections (clients offer permessage-deflate)`)
    await openTo(top)
    const m = await server.rpc('memory')
    out.memory[top] = { heapPerConn: (m.heap - base.heap) / (top - 100), rssPerConn: (m.rss - base.rss) / (top - 100), connections: m.connections }
    log(`${system}: full fan-out to ${top}`)
    const feed = await Promise.all(clients.map((c) => c.rpc('subscribeFeed')))
    if (feed.some((f) => f.failures > 0)) out.failures.push(`${system}: feed subscribe failures`)
    const cpuBefore = await server.rpc('cpu')
    const full = await deliver(clients, makeEvents(config.fanoutEvents, 'feed', () => 'feed'), fire, 120_000)
    full.serverCpuMicros = (await server.rpc('cpu')) - cpuBefore
    check('full fan-out', full)
    full.deliveriesPerSec = full.received / ((full.lastAt - full.startedAt) / 1000)
    out.scenarios.full = full
  } catch (error) {
    out.failures.push(`${system}: ${error.message}`)
  } finally {
    await Promise.all([server.stop(), ...clients.map((c) => c.stop())])
  }
  return out
}
