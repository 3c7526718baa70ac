import t, { type Test } from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readKnobs, runBench, type BenchOutcome } from '../flash-sale.ts'

// A small flash sale through the real bench against the running stack: proves the bench works and
// that the invariants hold under concurrent buyers. It asserts correctness, never timing — the
// numbers of a smoke run on a shared machine mean nothing.

/** The bench with these knobs (no target is strict), its results in a directory removed afterwards. */
async function smallBench (t: Test, knobs: Record<string, string>): Promise<BenchOutcome> {
  const resultsDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
  t.teardown(() => rmSync(resultsDir, { recursive: true, force: true }))
  return await runBench(readKnobs({ ...process.env, ...knobs, STRICT_TARGETS: '0', RESULTS_DIR: resultsDir }))
}

t.test('a small flash sale sells exactly its stock, loses nothing, and writes its report', async (t) => {
  const { report, files, passed } = await smallBench(t, {
    SCENARIOS: 'sale,sold-out',
    SOLD_OUT_REQUESTS: '1000',
    UNITS_BACK: '20',
    STOCK: '500',
    REQUESTS: '2000',
    CONNECTIONS: '20',
    CEILINGS: 'short',
    REDIS_CEILING_OPS: '20000',
    SQL_CEILING_ROWS: '10000'
  })

  t.ok(passed, 'the bench passed')
  t.ok(report.verification.passed, `every invariant holds: ${report.verification.checks.filter((c) => !c.ok).map((c) => `${c.id} ${c.name}: ${c.detail}`).join('; ')}`)
  t.equal(report.sale?.accepted, 500, 'exactly STOCK buyers were accepted (I1, I5)')
  t.equal(report.verification.confirmedUnits, 500, 'every accepted order is confirmed in MySQL (I2)')
  t.equal(report.verification.mysqlStock, 0, 'MySQL stock is sold out, not below')
  t.equal(report.verification.redisStock, 0, 'Redis agrees with MySQL (I4)')
  t.equal(report.sale?.statusCounts['202'], 500)
  // 503 is the gateway shedding load on a starved machine (OVERLOAD_EVENT_LOOP_DELAY_MS): an answer too.
  t.equal((report.sale?.statusCounts['202'] ?? 0) + (report.sale?.statusCounts['409'] ?? 0) + (report.sale?.statusCounts['503'] ?? 0), 2000, 'every buyer was accepted, refused as sold out, or asked to retry')
  const soldOut = report.scenarios.find((s) => s.name === 'sold-out')
  t.ok(soldOut?.invariantsHold, 'sold-out: every invariant holds')
  t.equal(soldOut?.accepted, 21, 'sold-out: the one unit and the 20 restocked mid-run were sold, once each')
  t.ok(soldOut?.unitsBack !== null && soldOut?.unitsBack?.soldAgainAtMs !== null, 'the restocked units sold again (the gateways forgot "sold out")')
  t.ok(report.drain?.drained, 'the processor drained')

  for (const file of [files.json, files.svg, files.markdown]) t.ok(existsSync(file), `${file} exists`)
  const json = JSON.parse(readFileSync(files.json, 'utf8')) as { runId: string, verification: { passed: boolean } }
  t.equal(json.runId, report.runId)
  t.equal(json.verification.passed, true)
  t.match(readFileSync(files.svg, 'utf8'), /^<svg /, 'the chart is an SVG')
  t.ok(report.ceilings.http && report.ceilings.redis && report.ceilings.sql, 'the ceilings ran')
})

t.test('a tiny crowd sells exactly its stock with the waiting room and without it, and only to admitted buyers', async (t) => {
  const { report, passed } = await smallBench(t, {
    SCENARIOS: 'crowd',
    CROWD_BUYERS: '200',
    CROWD_STOCK: '40',
    CROWD_CONNECTIONS: '40',
    CROWD_JOIN_SECONDS: '1',
    CROWD_PROBES: '5',
    CEILINGS: 'off'
  })
  const crowd = report.crowd
  if (crowd === null) throw new Error('the crowd scenario did not report')

  t.ok(passed, 'the bench passed')
  for (const side of [crowd.room, crowd.noRoom]) {
    t.ok(side.checks.every((c) => c.ok), `${side.mode}: every check holds: ${side.checks.filter((c) => !c.ok).map((c) => `${c.id} ${c.name}: ${c.detail}`).join('; ')}`)
    t.equal(side.sold, 40, `${side.mode}: exactly the stock was sold (units confirmed in MySQL)`)
    t.not(side.sellOutMs, null, `${side.mode}: it sold out`)
  }
  const names = crowd.room.checks.map((c) => c.name)
  for (const name of ['every order in MySQL is a buyer the room admitted', 'orders without a pass are refused (403) and write nothing', 'no buyer holds more than its limit (1) in MySQL']) {
    t.ok(names.some((n) => n.startsWith(name)), `the room side checked: ${name}`)
  }
  const room = crowd.room.waitingRoom
  t.ok(room !== null && room.joins >= 200, 'every buyer joined (a join shed under load is asked again)')
  t.ok(room !== null && room.polls > 0, 'the buyers polled')
  t.ok(room !== null && room.admitted >= 40, 'at least the stock was admitted')
  t.equal(crowd.room.unserved + crowd.noRoom.unserved, 0, 'every buyer was served before the deadline')
  t.ok((crowd.noRoom.answers.refusals['409 INSUFFICIENT_STOCK'] ?? 0) >= 160, 'without the room: every buyer who got nothing was refused as sold out')
  t.ok(room !== null && room.peakBytes > 0, 'the room\'s memory in Redis was sampled')
  t.equal(crowd.noRoom.waitingRoom, null, 'no room figures without a room')
})
