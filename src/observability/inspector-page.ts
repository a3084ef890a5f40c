/** What the page is told by the server: where the socket is, how often pushes come. */
export interface InspectorPageConfig {
  wsPath: string
  interval: number
}

/** JSON for an inline <script>: `<` escaped so no value can close the element. */
function inlineJson (value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--mute:#6b7385;--line:#e2e5eb;--acc:#2f6fdf;--bad:#c62f3c;--ok:#1f8a4c}
@media(prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1c2027;--fg:#e5e8ee;--mute:#9098a8;--line:#2c313a;--acc:#6d9cff}}
*{box-sizing:border-box}[hidden]{display:none!important}body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:12px 16px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:16px;margin:0}h2{font-size:14px;margin:12px 0 8px}main{padding:16px;display:grid;gap:16px}
.pill{padding:2px 8px;border-radius:10px;background:var(--line);font-size:12px}.pill.live{background:var(--ok);color:#fff}.pill.bad{background:var(--bad);color:#fff}
.mute{color:var(--mute)}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px}
.card,section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px;min-width:0}
.card b{display:block;font-size:20px}.card svg{width:100%;height:32px;display:block;margin-top:4px}
polyline{fill:none;stroke:var(--acc);stroke-width:1.5}.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
td.filter{white-space:normal;font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
form{display:flex;gap:8px;flex-wrap:wrap}input{flex:1;min-width:200px;padding:6px}button{padding:6px 12px}`

const SCRIPT = `
const cfg = JSON.parse(document.getElementById('config').textContent)
const $ = (id) => document.getElementById(id)
const MAX_POINTS = 300
let points = [], socket = null, retry = 0
const token = () => sessionStorage.getItem('inspector-token') || ''
function el (tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e }
function status (text, kind) { const s = $('status'); s.textContent = text; s.className = 'pill ' + (kind || '') }
function spark (key) {
  const values = points.map((p) => p[key]); const max = Math.max(1, ...values)
  const pts = values.map((v, i) => (values.length < 2 ? 0 : (i * 100) / (values.length - 1)).toFixed(1) + ',' + (30 - (v / max) * 28).toFixed(1)).join(' ')
  return '<svg viewBox="0 0 100 32" preserveAspectRatio="none"><polyline points="' + pts + '"/></svg>'
}
const CARDS = [['connections', 'Connections', 'connections'], ['subscriptions', 'Subscriptions', 'subscriptions'], ['received', 'Received /s', 'received'],
  ['sent', 'Sent /s', 'sent'], ['events', 'Events /s', 'events'], ['deliveries', 'Deliveries /s', 'deliveries'], ['dropped', 'Dropped /s', 'dropped'], ['slowConsumerCloses', 'Slow closes /s', 'slowConsumerCloses']]
function cards (d) {
  const box = $('cards'); box.replaceChildren()
  const last = points[points.length - 1] || {}
  for (const [key, label] of CARDS) {
    const c = el('div', undefined, 'card'); c.dataset.metric = key
    c.append(el('span', label, 'mute'), el('b', key === 'connections' ? d.totals.connections : key === 'subscriptions' ? d.totals.subscriptions : (last[key] ?? 0)))
    c.insertAdjacentHTML('beforeend', spark(key)); box.append(c)
  }
  const k = d.counters
  $('totals').textContent = 'channels ' + d.totals.channels + ' · members ' + d.totals.channelMembers + ' · dropped ' + k.messagesDropped +
    ' · slow-consumer closes ' + k.slowConsumerCloses + ' · rejected ' + k.connectionsRejected + ' · bus errors ' + k.busErrors + ' · errors ' + k.errors
}
function table (id, head, rows, caption) {
  const t = el('table'); const tr = el('tr'); for (const h of head) tr.append(el('th', h)); t.append(tr)
  for (const r of rows) t.append(r)
  const box = $(id); box.replaceChildren(t); if (caption) box.append(el('p', caption, 'mute'))
}
function row (cells, data) { const tr = el('tr'); for (const [k, v] of Object.entries(data || {})) tr.dataset[k] = v; for (const c of cells) tr.append(typeof c === 'object' && c ? c : el('td', c ?? '—')); return tr }
function more (list, what) { return list.truncated ? 'showing ' + list.items.length + ' of ' + list.total + ' ' + what : '' }
function render (d) {
  const n = d.node
  $('node').textContent = (n.clustered ? 'node ' + n.nodeId + ' · bus ' + (n.busHealthy ? 'healthy' : 'UNHEALTHY') : 'single instance') + ' · epoch ' + n.epoch.slice(0, 8) + ' · up ' + n.uptime + ' s · ' + d.at
  cards(d)
  table('connections', ['client', 'user', 'roles', 'origin', 'age', 'subs', 'channels'], d.connections.items.map((c) =>
    row([c.clientId.slice(0, 8), c.userId ?? (c.awaitingAuth ? '(awaiting auth)' : '(anonymous)'), c.roles.join(', '), c.origin, c.age + ' s', c.subscriptions,
      c.channels.join(', ') + (c.channelCount > c.channels.length ? ' …' : '')], { clientId: c.clientId, userId: c.userId ?? '' })), more(d.connections, 'connections'))
  const box = $('resources'); box.replaceChildren()
  for (const r of d.resources) {
    const s = el('div'); s.append(el('h2', r.name + ' — ' + r.subscriptions + ' subscriptions, seq ' + r.seq + (r.scanned ? ', ' + r.scanned + ' scanned' : '')))
    const id = 'res-' + r.name; const inner = el('div', undefined, 'scroll'); inner.id = id; s.append(inner); box.append(s)
    table(id, ['subscription', 'user', 'filter (effective)', 'events', 'matched'], r.items.map((x) => {
      const f = el('td', JSON.stringify(x.filter) + (x.forced ? '  (guard)' : '') + (x.matchesNothing ? '  (matches nothing)' : ''), 'filter')
      return row([x.subscriptionId.slice(0, 8), x.userId ?? '(anonymous)', f, x.events.join(' '), x.matched], { subscriptionId: x.subscriptionId, resource: r.name })
    }), r.truncated ? 'showing ' + r.items.length + ' of ' + r.subscriptions : '')
  }
  table('channels', ['channel', 'type', 'members'], d.channels.items.map((c) => row([c.name, c.type, c.members], { channel: c.name })), more(d.channels, 'channels'))
}
function onFrame (f) {
  if (f.type === 'connected') { if (token()) socket.send(JSON.stringify({ type: 'auth', requestId: 'auth', token: token() })); else inspect(); return }
  if (f.type === 'authenticated') { inspect(); return }
  if (f.type === 'error') { status(f.code + ': ' + f.message, 'bad'); if (f.requestId === 'inspect' || f.code === 'FORBIDDEN') $('login').hidden = false; return }
  if (f.type !== 'inspector') return
  if (f.requestId !== undefined) points = f.data.history.slice(-MAX_POINTS)
  else { const p = f.data.history[0]; if (p && (!points.length || p.at > points[points.length - 1].at)) points = [...points, p].slice(-MAX_POINTS) }
  retry = 0; status('live', 'live'); $('login').hidden = true; render(f.data)
}
function inspect () { socket.send(JSON.stringify({ type: 'inspect', requestId: 'inspect' })) }
function connect () {
  const url = new URL(cfg.wsPath, location.href); url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'; url.searchParams.set('inspector', '1')
  status('connecting'); socket = new WebSocket(url)
  socket.onmessage = (m) => { try { onFrame(JSON.parse(m.data)) } catch (e) { status('bad frame', 'bad') } }
  socket.onclose = (e) => { status('disconnected (' + e.code + ')', 'bad'); if (e.code === 1008 || e.code === 4001) $('login').hidden = false; setTimeout(connect, Math.min(10000, 500 * 2 ** retry++)) }
}
$('login').onsubmit = (e) => { e.preventDefault(); sessionStorage.setItem('inspector-token', $('token').value.trim()); $('token').value = ''; retry = 0; if (socket) socket.close() }
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token')
if (fromHash) { sessionStorage.setItem('inspector-token', fromHash); history.replaceState(null, '', location.pathname + location.search) }
connect()`

/**
 * The inspector page: one self-contained HTML document (no CDN, no build step), fed over the
 * WebSocket with `{type:'inspect'}`. A token for the socket comes from `#token=` (kept in
 * sessionStorage, never sent in a URL) or the form; every value is written with textContent.
 * `nonce` allows its one inline script under the page's Content-Security-Policy.
 */
export function inspectorPage (config: InspectorPageConfig, nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>s3db-realtime inspector</title><link rel="icon" href="data:,">
<style>${STYLE}</style></head>
<body><header><h1>s3db-realtime inspector</h1><span id="status" class="pill">loading</span><span id="node" class="mute"></span></header>
<main>
<form id="login" hidden><input id="token" type="password" autocomplete="off" placeholder="token of a user with an inspector role"><button>Connect</button></form>
<div id="cards" class="cards"></div><p id="totals" class="mute"></p>
<section><h2>Connections</h2><div id="connections" class="scroll"></div></section>
<section><h2>Subscriptions</h2><div id="resources"></div></section>
<section><h2>Channels</h2><div id="channels" class="scroll"></div></section>
</main>
<script type="application/json" id="config">${inlineJson(config)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body></html>
`
}
