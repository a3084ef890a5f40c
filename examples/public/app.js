// The demo page: pick a persona, then watch what the server lets that persona see and do. Built
// on the package's own typed client (served from dist/client at /client/), no framework.
import { createClient } from '/client/index.js'
import { Builder } from './builder.js'
import { Rooms } from './rooms.js'
import { TasksView } from './tasks.js'
import { $, attempt, el, notice, toast } from './ui.js'
import { DemoConnection, ResumeTracker, WireLog } from './wire.js'

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
const wire = new WireLog()
const connection = new DemoConnection(wire)
let client = null

async function loadPersonas () {
  const personas = await (await fetch('/api/personas')).json()
  $('#personas').replaceChildren(...personas.map((p) => el('li', {}, [
    el('button', { type: 'button', className: 'persona', dataset: { persona: p.id }, onclick: () => { void signIn(p, personas) } }, [
      el('strong', { textContent: p.name }),
      el('span', { className: 'role', textContent: ` ${p.role} · team ${p.teams.join(' + ')}` }),
      el('span', { className: 'blurb', textContent: p.blurb })
    ])
  ])))
}

function showResumes (report) {
  $('#resume').replaceChildren(...report.map((r) => el('li', { dataset: { resource: r.resource, replayed: String(r.replayed.length) } }, [
    r.resync
      ? `${r.resource}: since ${r.since} could not be replayed (RESYNC_REQUIRED), so the client listed again`
      : `${r.resource}: resumed from seq ${r.since}, ${r.replayed.length} missed change${r.replayed.length === 1 ? '' : 's'} replayed${r.replayed.length === 0 ? '' : ` (seq ${r.replayed.join(', ')})`}`
  ])))
}

function setStatus (state, text = state) {
  $('#status').dataset.state = state
  $('#status').textContent = text
  $('#drop').disabled = connection.offline
  $('#reconnect').disabled = !connection.offline
}

async function signIn (persona, personas) {
  document.title = `${persona.name} · s3db-realtime demo`
  $('#intro').hidden = true
  $('#app').hidden = false
  $('#me').textContent = `${persona.name} · ${persona.role} · team ${persona.teams.join(' + ')}`
  $('#me').hidden = false
  client = createClient({
    url: wsUrl,
    // A fresh one-time ticket per (re)connect; the server decides the role and teams from the
    // persona. While the page holds the connection down ("drop"), reconnects wait here.
    ticket: async () => {
      await connection.waitOnline()
      const response = await fetch('/ws/ticket', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ persona: persona.id }) })
      if (!response.ok) throw new Error(`ticket request failed (${response.status})`)
      return (await response.json()).ticket
    },
    socketFactory: connection.factory(),
    reconnect: { initialDelay: 300, maxDelay: 5000 }
  })
  client.on('state', (state) => setStatus(state, connection.offline && state === 'reconnecting' ? 'offline (dropped)' : state))
  client.on('error', (error) => toast(error, 'from the server'))
  const tasks = new TasksView(client, persona)
  const builder = new Builder(client, wire)
  const rooms = new Rooms(client, persona, new Map(personas.map((p) => [p.id, p.name])))
  window.demo = { client, wire, connection, tasks: tasks.tasks, builder, rooms, persona }
  try {
    await client.connect()
    await tasks.start()
    builder.start()
    await rooms.start()
    await builder.subscribe()
    document.body.dataset.ready = 'true'
  } catch (error) {
    toast(error, 'start')
  }
}

const tracker = new ResumeTracker(wire, showResumes)
$('#drop').addEventListener('click', () => {
  tracker.reset()
  connection.drop()
  setStatus('reconnecting', 'offline (dropped)')
})
$('#reconnect').addEventListener('click', () => { connection.reconnect(); setStatus('reconnecting') })
$('#resync').addEventListener('click', () => {
  void attempt('force RESYNC', async () => {
    tracker.reset()
    const response = await fetch('/api/demo/resync', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: client?.clientId }) })
    if (!response.ok) throw new Error(`the server did not push the notice (${response.status})`)
    notice('the server pushed RESYNC_REQUIRED: watch the client resume in the wire log')
  })
})
$('#wire-clear').addEventListener('click', () => wire.clear())
$('#hide-pings').addEventListener('change', (event) => { $('#wire-list').classList.toggle('hide-pings', event.target.checked) })
loadPersonas().catch((error) => toast(error, 'load the personas'))
