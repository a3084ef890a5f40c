// CRUD throughput: the same operation over the socket protocol and over REST on the same
// server, with the same number of concurrent sequential workers, bounded by count and time.
import http from 'node:http'
import { BenchConnection } from './conn.mjs'
import { CONTENT, now, signToken } from './common.mjs'

const newRecord = () => ({ content: CONTENT, channel: 'crud', n: -1, t0: 0 })

/** `urls` (scenario f) spreads the workers over several instances, round robin. */
async function socketWorkers ({ url, urls = [url], concurrency }) {
  const conns = []
  for (let i = 0; i < concurrency; i++) conns.push(await BenchConnection.open(urls[i % urls.length], await signToken(`crud-${i}`), () => {}))
  const call = (conn, op, id) => conn.request(op === 'get'
    ? { type: 'get', resource: 'messages', id }
    : { type: 'insert', resource: 'messages', data: newRecord() })
  const ok = (reply, op) => reply.type === (op === 'get' ? 'data' : 'inserted') && reply.data?.id !== undefined
  return {
    workers: conns.map((conn) => async (op, id) => ok(await call(conn, op, id), op)),
    seedId: async () => (await call(conns[0], 'insert')).data.id,
    close: () => { for (const conn of conns) conn.close() }
  }
}

function restWorkers ({ restUrl, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const call = (op, id) => new Promise((resolve) => {
    const body = op === 'get' ? null : JSON.stringify(newRecord())
    const req = http.request(op === 'get' ? `${restUrl}/messages/${id}` : `${restUrl}/messages`, {
      agent,
      method: op === 'get' ? 'GET' : 'POST',
      headers: body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        try { resolve(res.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString()).data : null) } catch { resolve(null) }
      })
    })
    req.on('error', () => resolve(null))
    req.end(body)
  })
  return {
    workers: Array.from({ length: concurrency }, () => async (op, id) => (await call(op, id))?.id !== undefined),
    seedId: async () => (await call('insert')).id,
    close: () => agent.destroy()
  }
}

/**
 * The baseline: the same s3db methods the socket's get/insert end in, called in the server
 * process on its own db (for s3db-realtime, through the plugin's write watch and change capture,
 * as any write of the application is), so the socket-vs-in-process gap is the protocol's cost.
 */
function inProcessWorkers (db, { concurrency }) {
  const resource = db.resources.messages
  const call = async (op, id) => op === 'get' ? resource.get(id) : resource.insert(newRecord())
  return {
    workers: Array.from({ length: concurrency }, () => async (op, id) => {
      try { return (await call(op, id))?.id !== undefined } catch { return false }
    }),
    seedId: async () => (await call('insert')).id,
    close: () => {}
  }
}

/** Returns ops/s for `op` ('get' | 'insert') with `mode` ('socket' | 'rest'). */
export async function runCrud ({ mode, op, url, urls, restUrl, concurrency, durationMs, maxOps }) {
  const pool = mode === 'socket' ? await socketWorkers({ url, urls, concurrency }) : restWorkers({ restUrl, concurrency })
  return measure(pool, op, durationMs, maxOps)
}

/** ops/s for `op` called in this process on `db` (server.mjs, scenario e's baseline). */
export function runCrudInProcess (db, { op, concurrency, durationMs, maxOps }) {
  return measure(inProcessWorkers(db, { concurrency }), op, durationMs, maxOps)
}

async function measure (pool, op, durationMs, maxOps) {
  try {
    const id = await pool.seedId()
    let ops = 0
    let errors = 0
    const start = now()
    const deadline = start + durationMs
    await Promise.all(pool.workers.map(async (work) => {
      while (ops + errors < maxOps && now() < deadline) {
        if (await work(op, id)) ops++
        else errors++
      }
    }))
    const seconds = (now() - start) / 1000
    return { ops, errors, seconds, opsPerSec: ops / seconds }
  } finally {
    pool.close()
  }
}
