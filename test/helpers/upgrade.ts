import { request } from 'node:http'

/**
 * Attempts a WebSocket handshake and reports the HTTP answer: 101 when the socket would open,
 * otherwise the status and body the server refused it with.
 */
export async function tryUpgrade (url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string, headers: Record<string, unknown> }> {
  const target = new URL(url.replace(/^ws/, 'http'))
  return await new Promise((resolve, reject) => {
    const req = request({
      agent: false, // a fresh connection per attempt: refused upgrades close theirs
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
        ...headers
      }
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers })
    })
    req.on('response', (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, headers: res.headers }) })
    })
    req.on('error', reject)
    req.end()
  })
}
