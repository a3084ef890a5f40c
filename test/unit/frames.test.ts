import t, { type Test } from 'tap'
import { FormatRegistry, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ErrorCodes, ProtocolError } from '../../src/errors.js'
import * as frames from '../../src/wire/frames.js'
import { ErrorDetailsSchemas, ServerSchemas } from '../../src/wire/server-schemas.js'

/*
 * Every builder of src/wire/frames.ts yields a frame that its server schema accepts, checked the
 * way test/conformance/asyncapi-frames.test.ts checks real frames (TypeBox, closed objects,
 * date-time format, fixed `details` per error code). Socket-free: the builders are called
 * directly, so every frame type is covered, including those a scenario rarely provokes.
 */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => ISO.test(value) && !Number.isNaN(Date.parse(value)))

const checks = new Map(Object.entries(ServerSchemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema as TSchema)]))
const detailChecks = new Map(Object.entries(ErrorDetailsSchemas).map(([code, schema]) => [code, TypeCompiler.Compile(schema as TSchema)]))

const TIME = '2026-01-01T00:00:00.000Z'
const ann = { id: 'ann', role: 'admin', name: 'Ann' }
const member = { id: 'ann', clientId: 'c1', userInfo: { name: 'Ann' }, joinedAt: TIME }
const from = frames.senderOf('c1', ann)

/** Each builder with the arguments a sender gives it, named for the report. */
const built: Array<[string, frames.ServerFrame]> = [
  ['connected', frames.connectedFrame('c1', ann, new Date(TIME))],
  ['connected (anonymous)', frames.connectedFrame('c2', null, new Date(TIME))],
  ['pong', frames.pongFrame()],
  ['subscribed', frames.subscribedFrame({ resource: 'posts', filter: { room: 'a' }, matchesNothing: false, events: ['insert', 'update'], subscriptionId: 's1', seq: 4, epoch: 'e1' })],
  ['subscribed (matchesNothing, snapshot)', frames.subscribedFrame({
    resource: 'posts',
    filter: { tenant: 't1' },
    matchesNothing: true,
    events: ['insert'],
    subscriptionId: 's2',
    seq: 4,
    epoch: 'e1',
    snapshot: { seq: 4, epoch: 'e1', data: [{ id: 'p1' }], versions: { p1: 'v1' }, cursor: null }
  })],
  ['unsubscribed', frames.unsubscribedFrame(['s1'], { resource: 'posts', filter: { room: 'a' } })],
  ['unsubscribed (by id)', frames.unsubscribedFrame([], { subscriptionId: 's9' })],
  ['unsubscribed (revoked)', frames.subscriptionRevokedFrame('s1', 'posts')],
  ['data (get)', frames.recordFrame('posts', { id: 'p1', title: 'x' }, 'v1')],
  ['data (list)', frames.pageFrame('posts', [{ id: 'p1' }], { p1: 'v1' }, 'next')],
  ['data (last page)', frames.pageFrame('posts', [], {}, null)],
  ['inserted', frames.insertedFrame('posts', { id: 'p1' }, 'v1')],
  ['updated', frames.updatedFrame('posts', { id: 'p1' }, 'v2')],
  ['deleted', frames.deletedFrame('posts', 'p1')],
  ['insertedMany', frames.insertedManyFrame('posts', [{ ok: true, data: { id: 'p1' }, version: 'v1' }, { ok: false, error: { code: 'FORBIDDEN', message: 'Access denied' } }])],
  ['deletedMany', frames.deletedManyFrame('posts', [{ ok: true, id: 'p1' }, { ok: false, id: 'p2', error: { code: 'NOT_FOUND', message: 'Record not found' } }])],
  ['event', frames.changeEventFrame({ event: 'insert', resource: 'posts', data: { id: 'p1' }, timestamp: TIME, seq: 5, version: 'v1' })],
  ['event (left)', frames.changeEventFrame({ event: 'update', resource: 'posts', data: { id: 'p1' }, timestamp: TIME, seq: 6, left: true })],
  ['event (reset)', frames.resetEventFrame('posts', TIME, 7)],
  ['published', frames.publishedFrame('posts', 2)],
  ['message', frames.publishMessageFrame('posts', { text: 'hi' }, from)],
  ['message (anonymous sender)', frames.publishMessageFrame('posts', 'hi', frames.senderOf('c3', null))],
  ['channel:joined', frames.channelJoinedFrame('room-1', 'public')],
  ['channel:joined (presence)', frames.channelJoinedFrame('presence-room', 'presence', { memberCount: 1, members: [member], me: member })],
  ['channel:joined (presence, summarized)', frames.channelJoinedFrame('presence-big', 'presence', { memberCount: 500, me: member })],
  ['channel:left', frames.channelLeftFrame('room-1')],
  ['channel:left (revoked)', frames.channelLeftFrame('private-room', 'FORBIDDEN')],
  ['channel:sent', frames.channelSentFrame('room-1', 3)],
  ['channel:updated', frames.channelUpdatedFrame('presence-room', { ...member, updatedAt: TIME })],
  ['channel:message', frames.channelMessageFrame('room-1', 'typing', { on: true }, from)],
  ['presence:member_joined', frames.presenceMemberFrame('joined', 'presence-room', member)],
  ['presence:member_left', frames.presenceMemberFrame('left', 'presence-room', member)],
  ['presence:member_updated', frames.presenceMemberFrame('updated', 'presence-room', member)],
  ['presence:count', frames.presenceCountFrame('presence-big', 500, { joined: 3, left: 1 })],
  ['authenticated', frames.authenticatedFrame(ann, Date.parse(TIME))],
  ['authenticated (no expiry)', frames.authenticatedFrame(ann, null)],
  ['inspector', frames.inspectorFrame({ at: TIME, connections: { total: 1, truncated: false, items: [] } })],
  ['error', frames.errorFrame(new ProtocolError(ErrorCodes.INVALID_REQUEST, 'bad', { field: '/id' }), 'r1')],
  ['error (no details, no requestId)', frames.errorFrame(new ProtocolError(ErrorCodes.INTERNAL_ERROR, 'Internal server error'))],
  ['error (validation)', frames.errorFrame(new ProtocolError(ErrorCodes.VALIDATION_ERROR, 'Validation failed', [{ field: 'title', type: 'string', message: 'required' }]))],
  ['error (resync of a subscribe since)', frames.errorFrame(new ProtocolError(ErrorCodes.RESYNC_REQUIRED, 'History epoch changed; list again', { epoch: 'e1', seq: 4 }), 7)],
  ['error (resync of a resource)', frames.resourceResyncFrame('posts', 'e1', 9)],
  ['error (slow consumer)', frames.slowConsumerResyncFrame(12, [{ subscriptionId: 's1', resource: 'posts' }])]
]

function checkFrame (t: Test, label: string, frame: frames.ServerFrame): void {
  const check = checks.get(frame.type)
  if (check === undefined) { t.fail(`${label}: no schema for "${frame.type}"`); return }
  t.ok(check.Check(frame), `${label} matches the ${frame.type} schema`, { frame, errors: [...check.Errors(frame)].slice(0, 5).map((e) => `${e.path}: ${e.message}`) })
  if (frame.type !== 'error') return
  const error = frame as frames.FrameOf<'error'>
  const details = detailChecks.get(error.code)
  if (details !== undefined) t.ok(details.Check(error.details), `${label}: ${error.code} details match their schema`, { details: error.details })
}

t.test('every builder yields a frame its server schema accepts', async (t) => {
  for (const [label, frame] of built) checkFrame(t, label, frame)
})

t.test('every server frame type has a builder', async (t) => {
  t.same([...new Set(built.map(([, frame]) => frame.type))].sort(), Object.keys(ServerSchemas).sort())
})

t.test('built frames carry no undefined fields: what is built is what is sent', async (t) => {
  for (const [label, frame] of built) {
    t.same(Object.entries(frame).filter(([, value]) => value === undefined).map(([key]) => key), [], label)
    t.strictSame(JSON.parse(frames.encode(frame)), frame, `${label} survives encoding`)
  }
})

t.test('encode writes `type` first (the metrics read it from the frame\'s start)', async (t) => {
  for (const [label, frame] of built) t.ok(frames.encode(frame).startsWith(`{"type":"${frame.type}"`), label)
})

t.test('a reply echoes the requestId, and only when the request had one', async (t) => {
  const pong = frames.pongFrame(TIME)
  t.same(frames.withRequestId(pong, undefined), { type: 'pong', timestamp: TIME })
  t.same(frames.withRequestId(pong, 'r1'), { type: 'pong', timestamp: TIME, requestId: 'r1' })
  t.same(frames.withRequestId(pong, 0), { type: 'pong', timestamp: TIME, requestId: 0 })
  t.same(pong, { type: 'pong', timestamp: TIME }, 'the built frame is not changed')
  for (const requestId of ['r1', 42]) {
    checkFrame(t, `subscribed with requestId ${requestId}`, frames.withRequestId(built[3]?.[1] as frames.ReplyFrame, requestId))
    checkFrame(t, `error with requestId ${requestId}`, frames.errorFrame(new ProtocolError(ErrorCodes.NOT_FOUND, 'Record not found'), requestId))
  }
})

t.test('the slow-consumer and resource resync notices are RESYNC_REQUIRED pushes with their own details', async (t) => {
  const slow = frames.slowConsumerResyncFrame(3, [])
  t.equal(slow.code, ErrorCodes.RESYNC_REQUIRED)
  t.same(slow.details, { reason: 'slow_consumer', dropped: 3, subscriptions: [] })
  t.notOk('requestId' in slow, 'a push has no requestId')
  const resource = frames.resourceResyncFrame('posts', 'e2', 10)
  t.same(resource.details, { resource: 'posts', epoch: 'e2', seq: 10 })
  t.match(resource.message, /"posts"/)
})
