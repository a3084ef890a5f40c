// Channels: a public lobby anyone may use, a private room per team (the server's channel guard
// decides who may join), and a presence channel per team showing who is online and typing.
import { $, el, toast } from './ui.js'

const TEAMS = ['red', 'blue']
const TARGETS = ['public-lobby', ...TEAMS.map((team) => `private-team-${team}`)]
const MAX_MESSAGES = 100
const TYPING_IDLE_MS = 1500

export class Rooms {
  constructor (client, me, names) {
    this.client = client
    this.me = me
    this.names = names
    this.rooms = new Map()
    this.presence = new Map()
    this.typingTimer = undefined
    this.typingIn = null
  }

  async start () {
    $('#room-target').replaceChildren(...TARGETS.map((name) => el('option', { value: name, textContent: name, selected: name === `private-team-${this.me.teams[0]}` })))
    $('#composer').addEventListener('submit', (event) => { event.preventDefault(); void this.send() })
    $('#message').addEventListener('input', () => { this.typing() })
    for (const name of ['public-lobby', ...this.me.teams.map((team) => `private-team-${team}`)]) await this.enter(name)
    for (const team of this.me.teams) {
      const room = await this.client.join(`presence-team-${team}`, { name: this.me.name, typing: false })
      this.presence.set(team, room)
      for (const event of ['member_joined', 'member_left', 'member_updated', 'sync']) room.on(event, () => this.renderPresence())
    }
    this.renderPresence()
  }

  /** Joins a channel (the server may refuse: FORBIDDEN with the guard's reason). */
  async enter (name) {
    const room = await this.client.join(name)
    this.rooms.set(name, room)
    room.on('message', ({ data, from }) => { this.show(name, this.names.get(from?.userId) ?? from?.userId ?? 'someone', data?.text) })
    return room
  }

  async send () {
    const target = $('#room-target').value
    const text = $('#message').value.trim()
    if (text === '') return
    try {
      const room = this.rooms.get(target) ?? await this.enter(target)
      const delivered = await room.send('chat', { text })
      $('#message').value = ''
      this.show(target, `${this.me.name} (you)`, text, delivered)
      this.stopTyping()
    } catch (error) {
      toast(error, `post in ${target}`)
    }
  }

  show (channel, who, text, delivered) {
    const list = $('#messages')
    list.append(el('li', { dataset: { channel } }, [
      el('span', { className: 'channel', textContent: channel.replace('private-team-', 'team ') }),
      el('span', { className: 'author', textContent: who }),
      el('span', { className: 'content', textContent: String(text ?? '') }),
      delivered === undefined ? null : el('span', { className: 'delivered', textContent: ` delivered to ${delivered}` })
    ]))
    while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove()
    list.scrollTop = list.scrollHeight
  }

  /** Typing in a team room sets `typing` in that team's presence channel, cleared when idle. */
  typing () {
    const team = $('#room-target').value.replace('private-team-', '')
    const room = this.presence.get(team)
    if (room === undefined) return
    if (this.typingIn !== team) {
      this.stopTyping()
      this.typingIn = team
      room.update({ typing: true }).catch((error) => toast(error, 'typing indicator'))
    }
    clearTimeout(this.typingTimer)
    this.typingTimer = setTimeout(() => { this.stopTyping() }, TYPING_IDLE_MS)
  }

  stopTyping () {
    clearTimeout(this.typingTimer)
    const room = this.typingIn === null ? undefined : this.presence.get(this.typingIn)
    this.typingIn = null
    room?.update({ typing: false }).catch((error) => toast(error, 'typing indicator'))
  }

  renderPresence () {
    $('#presence').replaceChildren(...[...this.presence].map(([team, room]) => el('li', { dataset: { team } }, [
      el('span', { className: `team-tag ${team}`, textContent: team }),
      ...room.members.sort((a, b) => a.id.localeCompare(b.id)).map((member) => el('span', {
        className: `member${member.id === this.me.id ? ' me' : ''}${member.userInfo?.typing === true ? ' typing' : ''}`,
        dataset: { id: member.id },
        textContent: `${member.userInfo?.name ?? member.id}${member.userInfo?.typing === true ? ' is typing…' : ''}`
      }))
    ])))
  }
}
