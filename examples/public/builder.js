// The subscription builder: pick a resource, conditions with operators and events; see the
// filter the server actually applies (yours AND the guards'), the snapshot, then live events,
// with `left` when a record stops matching.
import { apply } from './tasks.js'
import { $, el, toast } from './ui.js'

const FIELDS = {
  tasks: { title: 'string', team: 'string', priority: 'number', status: 'string', assignee: 'string', internalNote: 'string (protected: refused)' },
  messages: { content: 'string', channel: 'string', author: 'string' }
}
const OPERATORS = ['=', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$prefix', '$exists']
const PRESETS = [
  { label: 'priority ≥ 3', resource: 'tasks', conditions: [['priority', '$gte', '3']] },
  { label: 'status in todo, doing', resource: 'tasks', conditions: [['status', '$in', 'todo, doing']] },
  { label: 'title starts with "Fix"', resource: 'tasks', conditions: [['title', '$prefix', 'Fix']] },
  { label: 'team = blue', resource: 'tasks', conditions: [['team', '=', 'blue']] }
]
const MAX_EVENTS = 50

/** A typed value for the field: numbers for number fields, lists for $in/$nin, booleans for $exists. */
function operand (type, op, raw) {
  const scalar = (text) => {
    const trimmed = text.trim()
    if (type === 'number' && trimmed !== '' && !Number.isNaN(Number(trimmed))) return Number(trimmed)
    return trimmed
  }
  if (op === '$exists') return raw.trim() !== 'false'
  if (op === '$in' || op === '$nin') return raw.split(',').map(scalar).filter((v) => v !== '')
  return scalar(raw)
}

/** Conditions to a filter: `{priority: {$gte: 3}, status: 'todo'}`. */
export function buildFilter (resource, conditions) {
  const filter = {}
  for (const [field, op, raw] of conditions) {
    const value = operand(FIELDS[resource]?.[field] ?? 'string', op, raw)
    const current = filter[field]
    if (op === '=' && current === undefined) { filter[field] = value; continue }
    const ops = current !== null && typeof current === 'object' && !Array.isArray(current) ? current : current === undefined ? {} : { $eq: current }
    ops[op === '=' ? '$eq' : op] = value
    filter[field] = ops
  }
  return filter
}

export class Builder {
  constructor (client, wire) {
    this.client = client
    this.records = new Map()
    this.unsubscribe = null
    this.awaiting = null
    this.requestId = null
    wire.onFrame((direction, frame) => { this.watch(direction, frame) })
  }

  start () {
    $('#b-resource').replaceChildren(...Object.keys(FIELDS).map((name) => el('option', { value: name, textContent: name })))
    $('#b-resource').addEventListener('change', () => { $('#b-conditions').replaceChildren(); this.addCondition() })
    $('#b-add').addEventListener('click', () => this.addCondition())
    $('#b-presets').replaceChildren(...PRESETS.map((preset) => el('button', { type: 'button', className: 'chip', textContent: preset.label, onclick: () => this.load(preset) })))
    $('#builder').addEventListener('submit', (event) => { event.preventDefault(); void this.subscribe() })
    $('#b-stop').addEventListener('click', () => { void this.stop() })
    this.load(PRESETS[0])
  }

  load (preset) {
    $('#b-resource').value = preset.resource
    $('#b-conditions').replaceChildren()
    for (const condition of preset.conditions) this.addCondition(...condition)
  }

  addCondition (field, op = '=', value = '') {
    const resource = $('#b-resource').value
    const fields = Object.entries(FIELDS[resource])
    const row = el('div', { className: 'condition' }, [
      el('select', { className: 'field', ariaLabel: 'field' }, fields.map(([name, type]) => el('option', { value: name, textContent: `${name} (${type})`, selected: name === field }))),
      el('select', { className: 'op', ariaLabel: 'operator' }, OPERATORS.map((o) => el('option', { value: o, textContent: o, selected: o === op }))),
      el('input', { className: 'value', value, placeholder: 'value (a, b for $in)', ariaLabel: 'value' }),
      el('button', { type: 'button', className: 'secondary remove', textContent: '×', title: 'remove', onclick: () => row.remove() })
    ])
    $('#b-conditions').append(row)
  }

  conditions () {
    return [...document.querySelectorAll('#b-conditions .condition')].map((row) => [$('.field', row).value, $('.op', row).value, $('.value', row).value])
  }

  /** Picks the builder's `subscribed` reply off the wire: it carries the effective filter. */
  watch (direction, frame) {
    if (direction === 'out' && this.awaiting !== null && frame.type === 'subscribe' && frame.resource === this.awaiting && frame.since === undefined) {
      this.requestId = frame.requestId
      this.awaiting = null
    } else if (direction === 'in' && this.requestId !== null && frame.requestId === this.requestId) {
      this.requestId = null
      if (frame.type !== 'subscribed') return
      $('#b-effective').textContent = JSON.stringify(frame.filter)
      $('#b-nothing').hidden = frame.matchesNothing !== true
    }
  }

  async stop () {
    const unsubscribe = this.unsubscribe
    this.unsubscribe = null
    if (unsubscribe !== null) await unsubscribe().catch((error) => toast(error, 'unsubscribe'))
    $('#b-state').textContent = 'not subscribed'
  }

  async subscribe () {
    await this.stop()
    const resource = $('#b-resource').value
    const filter = buildFilter(resource, this.conditions())
    const events = [...document.querySelectorAll('#b-events-pick input[name="event"]:checked')].map((box) => box.value)
    const delta = $('#b-delta').checked
    this.records.clear()
    $('#b-sent').textContent = JSON.stringify(filter)
    $('#b-effective').textContent = '…'
    $('#b-nothing').hidden = true
    $('#b-events').replaceChildren()
    this.renderRecords()
    this.awaiting = resource
    try {
      const options = { filter, snapshot: true, ...(events.length === 3 ? {} : { events }), ...(delta ? { delta: true } : {}) }
      this.unsubscribe = await this.client.subscribe(resource, options, (event) => { this.handle(event) })
      $('#b-state').textContent = `subscribed to ${resource}`
    } catch (error) {
      this.awaiting = null
      $('#b-effective').textContent = '(refused)'
      $('#b-state').textContent = 'refused'
      toast(error, `subscribe to ${resource}`)
    }
  }

  handle (event) {
    apply(this.records, event)
    this.renderRecords()
    const record = event.data ?? {}
    const text = event.event === 'snapshot'
      ? `snapshot: ${event.data.length} matching`
      : `${event.event}${event.left === true ? ' → left the filter' : ''}: ${record.title ?? record.content ?? record.id ?? ''}${record.priority === undefined ? '' : ` (priority ${record.priority})`}`
    const list = $('#b-events')
    list.prepend(el('li', { className: `${event.event}${event.left === true ? ' left' : ''}`, dataset: { event: event.event, left: String(event.left === true) }, textContent: text }))
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove()
  }

  renderRecords () {
    $('#b-count').textContent = String(this.records.size)
    $('#b-rows').replaceChildren(...[...this.records.values()].map((r) =>
      el('li', { dataset: { id: r.id }, textContent: r.title === undefined ? String(r.content ?? r.id) : `${r.title} · ${r.team} · p${r.priority} · ${r.status}` })))
  }
}
