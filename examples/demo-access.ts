/**
 * The demo's access model: three personas, a `tasks` resource guarded per team, and team
 * channels. Everything a persona may do is decided here, on the server, from the persona id the
 * page sends: the page never says which role or teams it has.
 */
import type { Database } from 's3db.js'
import type { RealtimeOptions, RealtimeUser, ResourceConfig } from 's3db-realtime'

type Db = InstanceType<typeof Database>
type ChannelGuards = NonNullable<Exclude<RealtimeOptions['channels'], boolean | undefined>['guards']>
type ChannelGuard = ChannelGuards[string]

export interface Persona {
  id: string
  name: string
  role: 'admin' | 'member'
  teams: string[]
  /** One line for the sign-in screen. */
  blurb: string
}

export const PERSONAS: readonly Persona[] = [
  { id: 'ada', name: 'Ada', role: 'admin', teams: ['red', 'blue'], blurb: 'admin: sees every team, may delete, sees no protected field either' },
  { id: 'bob', name: 'Bob', role: 'member', teams: ['red'], blurb: 'member of team red: sees and writes red tasks only' },
  { id: 'cy', name: 'Cy', role: 'member', teams: ['blue'], blurb: 'member of team blue: sees and writes blue tasks only' }
]

/** The user a ticket carries (and guards read): looked up, never taken from the request. */
export function personaUser (personaId: unknown): RealtimeUser | null {
  const persona = PERSONAS.find((p) => p.id === personaId)
  if (persona === undefined) return null
  return { id: persona.id, name: persona.name, role: persona.role, teams: [...persona.teams] }
}

const isAdmin = (user: RealtimeUser | null): boolean => user?.role === 'admin'
const teamsOf = (user: RealtimeUser | null): string[] =>
  Array.isArray(user?.teams) ? user.teams.filter((team): team is string => typeof team === 'string') : []

/**
 * What a persona sees of `tasks`: admins everything, members their teams' rows (a forced filter
 * the server ANDs with whatever the page asks; writes outside it are FORBIDDEN), nobody anonymous.
 */
function teamView (user: RealtimeUser | null): boolean | Record<string, unknown> {
  if (user === null) return false
  return isAdmin(user) ? true : { team: { $in: teamsOf(user) } }
}

export const TASKS_CONFIG: ResourceConfig = {
  auth: ['admin', 'member'],
  // Never leaves the server: not for Ada either, not in events, not in conflict details.
  protected: ['internalNote'],
  guard: {
    list: teamView,
    subscribe: teamView,
    // Members may edit their team's tasks (the forced filter keeps them in it) but not delete.
    delete: (user) => isAdmin(user)
  }
}

/** `private-team-red`, `presence-team-red`: team members and admins only. */
const teamChannel: ChannelGuard = (user, channel) => {
  const team = channel.slice(channel.lastIndexOf('team-') + 'team-'.length)
  if (isAdmin(user) || teamsOf(user).includes(team)) return true
  return { authorized: false, reason: `Only team ${team} (and admins) may use ${channel}` }
}
export const CHANNEL_GUARDS: ChannelGuards = { 'team-*': teamChannel }

const SEED_TASKS = [
  { title: 'Fix login redirect', team: 'red', priority: 5, status: 'doing', assignee: 'bob', internalNote: 'confidential: customer escalation #4411' },
  { title: 'Review pricing page', team: 'red', priority: 3, status: 'todo', assignee: 'bob', internalNote: 'confidential: discount ceiling 18%' },
  { title: 'Write release notes', team: 'red', priority: 2, status: 'todo', internalNote: 'confidential: ship date may slip' },
  { title: 'Fix flaky upload test', team: 'red', priority: 4, status: 'todo', internalNote: 'confidential: blamed on vendor SDK' },
  { title: 'Blue launch plan', team: 'blue', priority: 4, status: 'doing', assignee: 'cy', internalNote: 'confidential: launch budget 120k' },
  { title: 'Fix dark mode contrast', team: 'blue', priority: 3, status: 'todo', assignee: 'cy', internalNote: 'confidential: a11y audit failed' },
  { title: 'Tidy the backlog', team: 'blue', priority: 1, status: 'done', internalNote: 'confidential: two people leaving' }
]

/** Creates `tasks` (title, team, priority 1–5, status, assignee, protected internalNote) and seeds it once. */
export async function createTasks (db: Db): Promise<void> {
  if ((db.resources as Record<string, unknown>).tasks === undefined) {
    await db.createResource({
      name: 'tasks',
      attributes: {
        title: 'string|required|min:3|max:120',
        team: 'string|required',
        priority: 'number|integer|min:1|max:5',
        status: 'string|required',
        assignee: 'string|optional',
        internalNote: 'string|optional'
      },
      timestamps: true,
      partitions: { byTeam: { fields: { team: 'string' } } }
    } as Parameters<Db['createResource']>[0])
  }
  const tasks = db.resources.tasks!
  if ((await tasks.list({ limit: 1 }) as unknown[]).length > 0) return
  for (const task of SEED_TASKS) await tasks.insert(task)
}
