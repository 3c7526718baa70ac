import t from 'tap'
import { isTransientError } from '../src/clients/transient.ts'
import { isRedirection } from '../src/clients/lua.ts'

// The one list both the HTTP error handler (503 + Retry-After) and the processor's retry loop read.

t.test('dependency outages and contention are transient', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['MySQL refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' })],
    ['MySQL deadlock', Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK' })],
    ['MySQL connection killed', Object.assign(new Error('killed'), { code: 'ER_CONNECTION_KILLED' })],
    ['Redis closed', new Error('Connection is closed.')],
    ['Redis failover', new Error('CLUSTERDOWN The cluster is down')],
    ['Redis replica promoted', new Error("READONLY You can't write against a read only replica.")],
    ['ioredis gave up', Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })],
    ['KafkaJS broker away', Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' })],
    ['a client marks it retriable', Object.assign(new Error('leader not available'), { retriable: true })]
  ]
  for (const [what, error] of cases) t.equal(isTransientError(error), true, what)
})

t.test('bugs, bad data and non-errors are not transient', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['a TypeError', new TypeError('undefined is not a function')],
    ['a duplicate key', Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY' })],
    ['a Lua script error', new Error('ERR Error running script')],
    ['a KafkaJS error that says it is not retriable', Object.assign(new Error('bad record'), { retriable: false })],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
    ['undefined', undefined]
  ]
  for (const [what, error] of cases) t.equal(isTransientError(error), false, what)
})

t.test('a MOVED or ASK reply is a redirection (the script is run again on the slot\'s new node), nothing else is', async (t) => {
  t.equal(isRedirection(new Error('MOVED 9557 127.0.0.1:7002')), true)
  t.equal(isRedirection(new Error('ASK 9557 127.0.0.1:7002')), true)
  t.equal(isRedirection(new Error('NOSCRIPT No matching script')), false)
  t.equal(isRedirection(new Error('ERR something MOVED 1 x')), false)
  t.equal(isRedirection('MOVED 1 x'), false, 'only errors')
})
