import type { SocketFactory, SocketLike } from './types.js'

type SocketConstructor = new (url: string) => SocketLike

/**
 * Picks how to open sockets: the global WebSocket (browsers, Node >= 22), else the `ws`
 * package. The module name is held in a variable so bundlers do not pull `ws` into a browser
 * build, where it is never needed.
 */
export async function defaultSocketFactory (): Promise<SocketFactory> {
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket
  if (typeof global === 'function') return (url) => new global(url)
  const moduleName = 'ws'
  let loaded: { WebSocket?: SocketConstructor, default?: SocketConstructor }
  try {
    loaded = await import(/* @vite-ignore */ /* webpackIgnore: true */ moduleName) as typeof loaded
  } catch {
    throw new Error('No global WebSocket and the "ws" package is not installed: npm install ws, or pass socketFactory')
  }
  const WebSocketClass = loaded.WebSocket ?? loaded.default
  if (typeof WebSocketClass !== 'function') throw new Error('The "ws" package did not export a WebSocket class')
  return (url) => new WebSocketClass(url)
}

/** Frames arrive as strings (browser, `ws` text frames) or bytes; the protocol is JSON text. */
export function frameText (data: unknown): string | null {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data)
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data)
  return null
}

export const OPEN = 1
