import * as ws from 'ws'
import type { WebSocket } from 'ws'

/*
 * Text frames built once and written as they are to every socket that gets them.
 *
 * `ws.send(string)` measures the string, builds a frame header and has the string encoded to
 * UTF-8 again for every recipient. Fan-out sends one string to many sockets in a row, so the
 * frame (header + UTF-8 payload) is built for the first and the same buffers are written to the
 * rest, through ws's own sender (as Socket.IO's engine does). The last frame built is kept: a
 * different string (a reply, the next event) builds a new one, an equal one reuses it.
 *
 * Only for sockets without extensions: a permessage-deflate socket compresses each message with
 * its own context, so its frames go through `ws.send`.
 */

/** The part of ws's WebSocket internals this relies on (ws 8: `_sender.sendFrame`, `_extensions`). */
interface SenderInternals {
  _sender?: { sendFrame?: (list: Buffer[], cb?: (error?: Error) => void) => void }
  _extensions?: Record<string, unknown>
}

/**
 * ws's frame builder: `Sender.frame(data, options)` -> [header, data]. A named export of ws's ESM
 * entry, not in its type declarations (the default export only has `.Sender` once something has
 * loaded ws as CommonJS).
 */
const Sender = (ws as unknown as {
  Sender: { frame: (data: Buffer, options: { fin: boolean, rsv1: boolean, opcode: number, mask: boolean, readOnly: boolean }) => Buffer[] }
}).Sender

const TEXT = 1
const OPTIONS = { fin: true, rsv1: false, opcode: TEXT, mask: false, readOnly: false }

let lastText: string | null = null
let lastFrame: Buffer[] = []

/** The unmasked, final text frame of `text`, as [header, payload]. */
export function textFrame (text: string): Buffer[] {
  // Usually the very same string object as last time (one event, many recipients): a pointer check.
  if (text !== lastText) {
    lastFrame = Sender.frame(Buffer.from(text, 'utf8'), OPTIONS)
    lastText = text
  }
  return lastFrame
}

/** Writes `text` as one text frame; the socket must be open. */
export function sendText (socket: WebSocket, text: string): void {
  const internals = socket as unknown as SenderInternals
  const sendFrame = internals._sender?.sendFrame
  if (sendFrame === undefined || (internals._extensions !== undefined && Object.keys(internals._extensions).length > 0)) {
    socket.send(text)
    return
  }
  sendFrame.call(internals._sender, textFrame(text))
}
