import { spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Test } from 'tap'

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

/** A real redis-server child process, no persistence, killed at teardown. */
export class RedisProcess {
  private child: ChildProcess | null = null

  /** `extraArgs`: more redis-server arguments (e.g. cluster mode, see redis-cluster.ts). */
  constructor (readonly port: number, private readonly extraArgs: string[] = []) {}

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running (): boolean {
    return this.child !== null
  }

  /** Starts redis-server and resolves once it accepts connections. */
  async start (): Promise<void> {
    if (this.child !== null) return
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          child.stdout?.removeListener('data', onData)
          child.stdout?.resume()
          resolve()
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.resume()
      child.once('exit', (code) => {
        this.child = null
        reject(new Error(`redis-server exited with ${String(code)} before it was ready: ${output.slice(-500)}`))
      })
    })
    child.removeAllListeners('exit')
    child.once('exit', () => { if (this.child === child) this.child = null })
  }

  /**
   * Freezes redis-server (SIGSTOP): its connections stay open and commands sent meanwhile wait in
   * its socket buffers, unanswered, until `resume` (a stall, not an outage). `stop` still works.
   */
  pause (): void {
    this.child?.kill('SIGSTOP')
  }

  /** Thaws redis-server after `pause` (SIGCONT): it runs what was sent while it was frozen. */
  resume (): void {
    this.child?.kill('SIGCONT')
  }

  /** Kills redis-server (SIGKILL: an outage, not a clean shutdown) and waits for it to exit. */
  async stop (): Promise<void> {
    const child = this.child
    if (child === null) return
    this.child = null
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => { resolve() })
      child.kill('SIGKILL')
    })
  }
}

/** Starts a redis-server on a free port for this test; it is killed at teardown. */
export async function startRedis (t: Test): Promise<RedisProcess> {
  const redis = new RedisProcess(await freePort())
  t.teardown(async () => { await redis.stop() })
  await redis.start()
  return redis
}

/**
 * A TCP relay between one client process and a redis-server, so a test can take Redis away from
 * that process alone: `cut()` drops its connections and refuses new ones (it sees Redis go away
 * and keeps retrying), `stall()` holds every byte in both directions (its commands neither reach
 * Redis nor get answers, like a network that stopped delivering), `heal()` lets traffic through
 * again (bytes held by a stall are delivered first). Bytes still held when a side closes are
 * dropped. Closed at teardown. (Plain closes, not resetAndDestroy: see TcpProxy.)
 */
export class RedisLink {
  private readonly links = new Set<{ client: Socket, upstream: Socket, held: Array<[Socket, Buffer]> }>()
  private mode: 'open' | 'cut' | 'stalled' = 'open'

  private constructor (private readonly server: Server, readonly port: number, private readonly target: number) {}

  static async start (t: Test, redis: RedisProcess): Promise<RedisLink> {
    const server = createServer()
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve((server.address() as { port: number }).port) })
    })
    const link = new RedisLink(server, port, redis.port)
    server.on('connection', (socket) => { link.relay(socket) })
    t.teardown(async () => { await link.close() })
    return link
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  cut (): void {
    this.mode = 'cut'
    for (const link of this.links) {
      link.client.destroy()
      link.upstream.destroy()
    }
    this.links.clear()
  }

  stall (): void {
    this.mode = 'stalled'
  }

  heal (): void {
    this.mode = 'open'
    for (const link of this.links) {
      for (const [to, data] of link.held.splice(0)) if (!to.destroyed) to.write(data)
    }
  }

  private relay (client: Socket): void {
    if (this.mode === 'cut') {
      client.destroy()
      return
    }
    const upstream = connect(this.target, '127.0.0.1')
    const link = { client, upstream, held: [] as Array<[Socket, Buffer]> }
    this.links.add(link)
    const forward = (to: Socket) => (data: Buffer): void => {
      if (this.mode === 'stalled') link.held.push([to, data])
      else to.write(data)
    }
    client.on('data', forward(upstream))
    upstream.on('data', forward(client))
    const drop = (): void => {
      this.links.delete(link)
      link.held.length = 0
      client.destroy()
      upstream.destroy()
    }
    for (const end of [client, upstream]) {
      end.on('error', drop)
      end.on('close', drop)
    }
  }

  private async close (): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
  }
}
