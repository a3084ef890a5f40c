/** What `getServerInfo()` reports. */
export interface ServerInfo {
  isRunning: boolean
  port: number | null
  host: string | null
  path: string
  clients: number
  subscriptions: number
  resources: string[]
  startedAt: string | null
  uptime: number
  epoch: string
}

/** Whether this endpoint serves, and where: set by the plugin as it starts, listens and stops. */
export class ServerState {
  running = false
  port: number | null = null
  host: string | null = null
  startedAt: Date | null = null

  start (): void {
    this.running = true
    this.startedAt = new Date()
  }

  /** Seconds since start (0 before). */
  get uptime (): number {
    return this.startedAt === null ? 0 : Math.round((Date.now() - this.startedAt.getTime()) / 1000)
  }
}
