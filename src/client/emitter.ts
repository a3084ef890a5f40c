/** Listener maps: event name -> argument tuple. */
export type EventMap<E> = { [K in keyof E]: unknown[] }

/** Like an uncaught exception in a plain event handler: reported, never swallowed. */
export function rethrowLater (error: unknown): void {
  setTimeout(() => { throw error }, 0)
}

/**
 * A tiny typed event emitter (node:events is not available in browsers). A throwing listener
 * must not break delivery to the others or the client's own frame handling, so errors are
 * handed to `onListenerError` instead of propagating.
 */
export class Emitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, Set<Function>>()

  constructor (private readonly onListenerError: (error: unknown, event: keyof E) => void = rethrowLater) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E> (event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) this.listeners.set(event, set = new Set())
    set.add(listener)
    return () => { this.off(event, listener) }
  }

  off<K extends keyof E> (event: K, listener: (...args: E[K]) => void): void {
    this.listeners.get(event)?.delete(listener)
  }

  emit<K extends keyof E> (event: K, ...args: E[K]): void {
    const set = this.listeners.get(event)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        (listener as (...a: E[K]) => void)(...args)
      } catch (error) {
        this.onListenerError(error, event)
      }
    }
  }

  removeAll (): void {
    this.listeners.clear()
  }
}
