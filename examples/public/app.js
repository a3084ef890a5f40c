// The demo page: a chat with presence and a live `users` table, built on the package's own
// client (served from dist/client at /client/). No framework: a few maps and render functions.
import { createClient } from '/client/index.js'

const $ = (selector) => document.querySelector(selector)
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`

function randomId () {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36)
}

// One id per tab, so two tabs with the same name are still two people in the demo.
const me = { id: sessionStorage.getItem('demo-id') ?? randomId(), name: '' }
sessionStorage.setItem('demo-id', me.id)

const messages = new Map()
const users = new Map()
let room = null

function showError (error) {
  $('#error').textContent = error ? `${error.code ?? 'ERROR'}: ${error.message}` : ''
}

/** Applies a subscription event to a map of records keyed by id. */
function apply (map, event) {
  if (event.event === 'snapshot') {
    map.clear()
    for (const record of event.data) map.set(record.id, record)
  } else if (event.event === 'reset') {
    map.clear()
  } else if (event.event === 'delete' || event.left) {
    map.delete(event.data.id)
  } else {
    map.set(event.data.id, { ...map.get(event.data.id), ...event.data })
  }
}

function el (tag, props = {}, children = []) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value)
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node[key] = value
  }
  node.append(...children)
  return node
}

function renderMessages () {
  const list = $('#messages')
  const sorted = [...messages.values()].sort((a, b) => String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? '')) || a.id.localeCompare(b.id))
  list.replaceChildren(...sorted.map((m) => el('li', { dataset: { id: m.id } }, [
    el('span', { className: 'author', textContent: m.author ?? 'anonymous' }),
    el('span', { className: 'content', textContent: m.content })
  ])))
  list.scrollTop = list.scrollHeight
}

function renderMembers () {
  const members = room === null ? [] : room.members
  $('#member-count').textContent = String(members.length)
  $('#members').replaceChildren(...members
    .sort((a, b) => String(a.userInfo.name).localeCompare(String(b.userInfo.name)))
    .map((m) => el('li', { className: m.id === me.id ? 'me' : '', dataset: { id: m.id }, textContent: String(m.userInfo.name ?? m.id) })))
}

function renderUsers (changedId) {
  const sorted = [...users.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)) || a.id.localeCompare(b.id))
  $('#users').replaceChildren(...sorted.map((u) => el('tr', { dataset: { id: u.id }, className: u.id === changedId ? 'flash' : '' }, [
    el('td', { className: 'name', textContent: u.name ?? '' }),
    el('td', { className: 'email', textContent: u.email ?? '' }),
    el('td', { className: 'role', textContent: u.role ?? 'member' }),
    el('td', {}, [
      el('button', { type: 'button', className: 'secondary toggle-role', textContent: u.role === 'admin' ? 'make member' : 'make admin', onclick: () => { client.update('users', u.id, { role: u.role === 'admin' ? 'member' : 'admin' }).catch(showError) } }),
      ' ',
      el('button', { type: 'button', className: 'secondary delete', textContent: 'delete', onclick: () => { client.delete('users', u.id).catch(showError) } })
    ])
  ])))
}

const client = createClient({
  url: wsUrl,
  // A fresh one-time ticket for every (re)connect: nothing long-lived ends up in a URL.
  ticket: async () => {
    const response = await fetch('/ws/ticket', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: me.id, name: me.name })
    })
    if (!response.ok) throw new Error(`ticket request failed (${response.status})`)
    return (await response.json()).ticket
  },
  reconnect: { initialDelay: 300, maxDelay: 5000 }
})

client.on('state', (state) => {
  const status = $('#status')
  status.dataset.state = state
  status.textContent = state
})
client.on('reconnecting', ({ attempt, delay }) => { $('#status').textContent = `reconnecting (attempt ${attempt}, in ${delay} ms)` })
client.on('open', () => showError(null))
client.on('error', showError)

async function start () {
  await client.connect()
  await client.subscribe('messages', { filter: { channel: 'general' }, snapshot: true }, (event) => { apply(messages, event); renderMessages() })
  await client.subscribe('users', { snapshot: true }, (event) => { apply(users, event); renderUsers(event.data?.id) })
  room = await client.join('presence-general', { name: me.name })
  for (const event of ['member_joined', 'member_left', 'member_updated', 'sync']) room.on(event, renderMembers)
  renderMembers()
  document.body.dataset.ready = 'true'
}

$('#signin').addEventListener('submit', (event) => {
  event.preventDefault()
  me.name = $('#name').value.trim()
  if (me.name === '') return
  $('#signin').hidden = true
  $('#app').hidden = false
  start().catch(showError)
})

$('#composer').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $('#message')
  const content = input.value.trim()
  if (content === '') return
  input.value = ''
  client.insert('messages', { content, channel: 'general', author: me.name }).catch(showError)
})

$('#add-user').addEventListener('submit', (event) => {
  event.preventDefault()
  const name = $('#user-name').value.trim()
  const email = $('#user-email').value.trim()
  if (name === '') return
  $('#user-name').value = ''
  $('#user-email').value = ''
  client.insert('users', email === '' ? { name, role: 'member' } : { name, email, role: 'member' }).catch(showError)
})

// Exposed for the end-to-end tests and for poking at from the devtools console.
window.demo = { client, messages, users, get room () { return room } }
