import type { Hub } from '../hub/hub.js'
import type { ClusterCoordinator } from './coordinator.js'

/** Which hub is clustered, without widening the Hub class (handlers look the coordinator up here). */
const coordinators = new WeakMap<Hub, ClusterCoordinator>()

export function setCoordinator (hub: Hub, coordinator: ClusterCoordinator | null): void {
  if (coordinator === null) coordinators.delete(hub)
  else coordinators.set(hub, coordinator)
}

export function coordinatorOf (hub: Hub): ClusterCoordinator | undefined {
  return coordinators.get(hub)
}
