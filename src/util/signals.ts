/**
 * A tiny typed emitter for signals between the plugin's own modules (and, in the Realtime
 * façade, for the application's events). Each listener runs on its own: one that throws is
 * reported to `onError` and neither stops the others nor escapes into a socket or s3db event
 * handler, where it would crash the process.
 */
type AnyListener = ((...args: never) => void) & { original?: unknown }

export class Signals<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, AnyListener[]>()

  constructor (private readonly onError: (error: unknown, signal: keyof Events) => void) {}

  on<K extends keyof Events> (signal: K, listener: (...args: Events[K]) => void): void {
    const list = this.listeners.get(signal)
    // Copy on write: emitting iterates a snapshot, so a listener may remove itself.
    this.listeners.set(signal, list === undefined ? [listener as AnyListener] : [...list, listener as AnyListener])
  }

  off<K extends keyof Events> (signal: K, listener: (...args: Events[K]) => void): void {
    const list = this.listeners.get(signal)
    if (list === undefined) return
    let index = list.length - 1
    while (index >= 0 && list[index] !== (listener as unknown) && list[index]?.original !== listener) index--
    if (index === -1) return
    const rest = [...list.slice(0, index), ...list.slice(index + 1)]
    if (rest.length === 0) this.listeners.delete(signal)
    else this.listeners.set(signal, rest)
  }

  /** Runs `listener` on the next emit of `signal` only. */
  once<K extends keyof Events> (signal: K, listener: (...args: Events[K]) => void): void {
    const wrapper = (...args: Events[K]): void => {
      this.off(signal, wrapper)
      listener(...args)
    }
    // `off(signal, listener)` must find it too, as with Node's EventEmitter.
    ;(wrapper as AnyListener).original = listener
    this.on(signal, wrapper)
  }

  emit<K extends keyof Events> (signal: K, ...args: Events[K]): void {
    const list = this.listeners.get(signal) as Array<(...a: Events[K]) => void> | undefined
    if (list === undefined) return
    for (const listener of list) {
      try {
        listener(...args)
      } catch (error) {
        this.onError(error, signal)
      }
    }
  }

  listenerCount (signal: keyof Events): number {
    return this.listeners.get(signal)?.length ?? 0
  }
}
