// Small DOM helpers shared by the demo's modules: element building and toasts for refusals.

export const $ = (selector, root = document) => root.querySelector(selector)

/** `el('td', { className: 'x', onclick }, [children])`; text goes in as text, never as HTML. */
export function el (tag, props = {}, children = []) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue
    if (key === 'dataset') Object.assign(node.dataset, value)
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node[key] = value
  }
  node.append(...children.filter((child) => child !== null && child !== undefined))
  return node
}

/** VALIDATION_ERROR lists `{field, message}`; other codes may name one `field`. */
function detailLines (error) {
  const details = error?.details
  if (Array.isArray(details)) return details.map((d) => `${d.field ?? '?'}: ${d.message ?? d.type ?? ''}`)
  if (details !== null && typeof details === 'object' && typeof details.field === 'string') return [`field ${details.field}`]
  return []
}

const TOAST_MS = 7000
const MAX_TOASTS = 4

/**
 * Shows a refusal (code, message, field details) for a few seconds. `context` says what was
 * attempted, so "FORBIDDEN" is never shown without what it refused.
 */
export function toast (error, context = '') {
  const box = $('#toasts')
  const code = error?.code ?? 'ERROR'
  const node = el('div', { className: `toast ${code === 'CONFLICT' ? 'warn' : 'bad'}`, role: 'alert', dataset: { code } }, [
    el('div', { className: 'toast-head' }, [
      el('strong', { className: 'code', textContent: code }),
      context === '' ? null : el('span', { className: 'context', textContent: ` ${context}` }),
      el('button', { type: 'button', className: 'close', textContent: '×', title: 'dismiss', onclick: () => node.remove() })
    ]),
    el('div', { className: 'message', textContent: error?.message ?? String(error) }),
    ...detailLines(error).map((line) => el('div', { className: 'detail', textContent: line }))
  ])
  box.append(node)
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove()
  setTimeout(() => node.remove(), TOAST_MS)
}

/** An informational note in the same place (e.g. "resumed: 3 missed changes replayed"). */
export function notice (text) {
  const node = el('div', { className: 'toast ok', role: 'status', textContent: text })
  $('#toasts').append(node)
  setTimeout(() => node.remove(), 4000)
}

/** Runs an async action; a refusal becomes a toast instead of an unhandled rejection. */
export function attempt (context, action) {
  return Promise.resolve().then(action).catch((error) => { toast(error, context) })
}
