import t from 'tap'
import { recordingLog } from './doubles.js'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import { busRecordLock, RECORD_LEASE_MS } from '../../src/cluster/record-lock.js'
import { ProtocolError } from '../../src/errors.js'

const { log } = recordingLog()

t.test('the bus lease: held while it lasts, exclusive, released after the work', async (t) => {
  const broker = new MemoryBroker()
  const a = new MemoryBus({ broker, nodeId: 'a' })
  const b = new MemoryBus({ broker, nodeId: 'b' })
  const lock = busRecordLock(a, log)
  const seen = await lock('k', async (held, exclusive) => {
    t.equal(await b.lock('k', RECORD_LEASE_MS), null, 'another node cannot take the record meanwhile')
    return { held: held(), exclusive }
  })
  t.same(seen, { held: true, exclusive: true })
  t.type(await b.lock('k', RECORD_LEASE_MS), 'string', 'released once the work is done')
})

t.test('a record another node holds: the write waits, then is refused with LIMIT_EXCEEDED', async (t) => {
  const broker = new MemoryBroker()
  const other = new MemoryBus({ broker, nodeId: 'other' })
  await other.lock('busy', RECORD_LEASE_MS)
  let ran = false
  const refused = await busRecordLock(new MemoryBus({ broker, nodeId: 'me' }), log)('busy', async () => { ran = true })
    .then(() => null, (error: unknown) => error)
  t.ok(refused instanceof ProtocolError && refused.code === 'LIMIT_EXCEEDED', 'refused after the wait')
  t.equal(ran, false, 'the work never ran')
})

t.test('an unreachable bus: the work runs under this instance only, marked not exclusive', async (t) => {
  const bus = new MemoryBus({ nodeId: 'down' })
  await bus.close() // a closed bus reports unhealthy
  const exclusive = await busRecordLock(bus, log)('k', async (_held, exclusive) => exclusive)
  t.equal(exclusive, false)
})
