// The live `tasks` table (what this persona may see), the new-task form, and the editor that
// saves with `ifVersion` so two people editing one task cannot silently overwrite each other.
import { ConflictError } from '/client/index.js'
import { $, attempt, el, notice, toast } from './ui.js'

const STATUSES = ['todo', 'doing', 'done']

/** Applies a subscription event to a map of records keyed by id. */
export function apply (map, event) {
  if (event.event === 'snapshot') {
    map.clear()
    for (const record of event.data) map.set(record.id, record)
  } else if (event.event === 'reset') {
    map.clear()
  } else if (event.event === 'delete' || event.left === true) {
    map.delete(event.data.id)
  } else {
    map.set(event.data.id, event.data)
  }
}

const cell = (label, text, className = label) => el('td', { className, textContent: text ?? '', dataset: { label } })

export class TasksView {
  constructor (client, me) {
    this.client = client
    this.me = me
    this.tasks = new Map()
    this.editing = null
  }

  async start () {
    $('#task-team').replaceChildren(...['red', 'blue'].map((team) => el('option', { value: team, textContent: team, selected: team === this.me.teams[0] })))
    $('#add-task').addEventListener('submit', (event) => { event.preventDefault(); void this.add() })
    $('#editor').addEventListener('submit', (event) => { event.preventDefault(); void this.save() })
    $('#editor-cancel').addEventListener('click', () => this.closeEditor())
    await this.client.subscribe('tasks', { snapshot: true }, (event) => {
      apply(this.tasks, event)
      this.render(event.data?.id)
    })
  }

  render (changedId) {
    const sorted = [...this.tasks.values()].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || String(a.title).localeCompare(String(b.title)))
    $('#task-count').textContent = String(sorted.length)
    $('#tasks').replaceChildren(...sorted.map((task) => el('tr', { dataset: { id: task.id, team: task.team }, className: task.id === changedId ? 'flash' : '' }, [
      cell('title', task.title),
      el('td', { className: 'team', dataset: { label: 'team' } }, [el('span', { className: `team-tag ${task.team}`, textContent: task.team })]),
      cell('priority', String(task.priority ?? '')),
      cell('status', task.status),
      cell('assignee', task.assignee ?? '—'),
      el('td', { className: 'actions' }, [
        el('button', { type: 'button', className: 'secondary edit', textContent: 'edit', onclick: () => { void this.openEditor(task.id) } }),
        el('button', { type: 'button', className: 'secondary delete', textContent: 'delete', title: 'admins only', onclick: () => { void attempt(`delete "${task.title}"`, () => this.client.delete('tasks', task.id)) } })
      ])
    ])))
  }

  async add () {
    const title = $('#task-title').value.trim()
    const priority = Number($('#task-priority').value)
    const data = { title, team: $('#task-team').value, priority, status: $('#task-status').value, assignee: this.me.id }
    try {
      await this.client.insert('tasks', data)
      $('#task-title').value = ''
    } catch (error) {
      toast(error, `insert into team ${data.team}`)
    }
  }

  /** Reads the task with its version: the save below only goes through if nobody wrote since. */
  async openEditor (id) {
    try {
      const { data, version } = await this.client.getWithVersion('tasks', id)
      this.editing = { id, version }
      this.fill(data)
      $('#editor-conflict').hidden = true
      $('#editor').hidden = false
      $('#editor-title').focus()
    } catch (error) {
      toast(error, 'open the editor')
    }
  }

  fill (task) {
    $('#editor-heading').textContent = `Edit "${task.title}"`
    $('#editor-title').value = task.title ?? ''
    $('#editor-priority').value = String(task.priority ?? '')
    $('#editor-status').replaceChildren(...STATUSES.map((s) => el('option', { value: s, textContent: s, selected: s === task.status })))
    $('#editor-version').textContent = this.editing.version
  }

  closeEditor () {
    this.editing = null
    $('#editor').hidden = true
  }

  async save (ifVersion = this.editing?.version) {
    if (this.editing === null) return
    const { id } = this.editing
    const data = { title: $('#editor-title').value.trim(), priority: Number($('#editor-priority').value), status: $('#editor-status').value }
    try {
      const saved = await this.client.updateWithVersion('tasks', id, data, { ifVersion })
      notice(`saved "${saved.data.title}" (new version ${saved.version.slice(0, 8)}…)`)
      this.closeEditor()
    } catch (error) {
      if (error instanceof ConflictError) this.showConflict(error)
      else toast(error, 'save the task')
    }
  }

  /** Someone saved first: show their record and let the user take it or overwrite it. */
  showConflict (error) {
    toast(error, 'save the task')
    const theirs = error.current
    $('#conflict-theirs').replaceChildren(...['title', 'priority', 'status', 'assignee'].map((field) =>
      el('li', {}, [el('span', { className: 'field', textContent: `${field}: ` }), el('span', { className: `value ${field}`, textContent: String(theirs[field] ?? '—') })])))
    $('#conflict-version').textContent = error.version
    $('#editor-conflict').hidden = false
    $('#conflict-reload').onclick = () => {
      this.editing = { id: this.editing.id, version: error.version }
      this.fill(theirs)
      $('#editor-conflict').hidden = true
    }
    $('#conflict-overwrite').onclick = () => { void this.save(error.version) }
  }
}
