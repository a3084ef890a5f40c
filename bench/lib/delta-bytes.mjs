// Scenario (h): bytes per update event with and without `delta: true`, on a realistic record
// (20 fields, one of them changed). Deterministic and socket-free: the frames are built by the
// package's own fan-out encoders from dist/ (the ones the hub sends), then counted as UTF-8
// bytes on the wire (before any permessage-deflate).
import { fileURLToPath } from 'node:url'

const dist = (path) => fileURLToPath(new URL(`../../dist/${path}`, import.meta.url))

/** A task record as an app would keep it: 20 fields, strings, numbers, an array, a nested object. */
function realisticRecord () {
  return {
    id: 'tsk_01HZX3R9Q7M2B8K4',
    title: 'Reconcile the March invoices with the ledger export',
    description: 'Compare every invoice issued in March against the ledger export from finance; flag duplicates, missing credit notes and rounding differences above one cent, then attach the report to this task.',
    status: 'in_progress',
    priority: 2,
    projectId: 'prj_finance_ops',
    assigneeId: 'usr_7f3a9c',
    reporterId: 'usr_1b2c3d',
    tenantId: 'tnt_acme_eu',
    tags: ['finance', 'monthly', 'ledger'],
    estimateHours: 6,
    spentHours: 2.5,
    dueAt: '2026-04-05T17:00:00.000Z',
    startedAt: '2026-04-01T08:30:00.000Z',
    createdAt: '2026-03-28T10:12:44.000Z',
    updatedAt: '2026-04-01T08:30:00.000Z',
    archived: false,
    commentCount: 4,
    meta: { source: 'web', clientVersion: '3.14.1' },
    checklist: ['export ledger', 'match invoices', 'write report']
  }
}

export async function measureDeltaBytes () {
  const { encodeEvent, encodeDelta } = await import(dist('hub/fanout.js'))
  const { createProjector } = await import(dist('access/projection.js'))
  const { diffRecords } = await import(dist('util/record-diff.js'))
  const project = createProjector([])
  const before = realisticRecord()
  const after = { ...before, status: 'review' }
  const event = { resource: 'tasks', type: 'update', id: before.id, before, after, seq: 1_048_576, timestamp: '2026-04-01T09:02:17.123Z' }
  const whole = encodeEvent(event, project, false)
  const changes = diffRecords(project(before), project(after))
  if (changes === null || Object.keys(changes.set).length !== 1) throw new Error('delta-bytes: expected one changed path')
  const delta = encodeDelta(event, project, changes)
  const wholeBytes = Buffer.byteLength(whole, 'utf8')
  const deltaBytes = Buffer.byteLength(delta, 'utf8')
  return { fields: Object.keys(before).length, wholeBytes, deltaBytes, ratio: deltaBytes / wholeBytes }
}
