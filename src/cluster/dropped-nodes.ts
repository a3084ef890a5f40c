import type { Stamp, ViewVersion } from './presence-ops.js'
import type { RemoteNode } from './remote-view.js'

/** What is kept of a node after it was dropped. */
export interface DroppedNode {
  /** Its last message: a copy of an older one arriving later is still recognized. */
  heard: Stamp
  /** The version its copy had: older views sent again later do not bring it back. */
  view: ViewVersion | null
}

/**
 * The nodes this node dropped (lease expired, or bye), remembered until heard from again. Bounded:
 * past `max` entries the oldest go first.
 */
export class DroppedNodes {
  private readonly entries = new Map<string, DroppedNode>()

  constructor (private readonly max = 1024) {}

  remember (origin: string, node: RemoteNode): void {
    if (node.heard === null) return
    this.entries.delete(origin)
    this.entries.set(origin, { heard: node.heard, view: node.incarnation === null ? null : { incarnation: node.incarnation, version: node.version } })
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string)
  }

  get (origin: string): DroppedNode | undefined {
    return this.entries.get(origin)
  }

  /** The node is heard again: what was kept of it, now forgotten. */
  take (origin: string): DroppedNode | undefined {
    const entry = this.entries.get(origin)
    this.entries.delete(origin)
    return entry
  }
}
