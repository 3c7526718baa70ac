// The service images, built natively: deploy/docker/service.Dockerfile is replayed (its COPY and
// RUN steps, as written there) in a clean temporary directory for a service, then its CMD starts
// the service against the real local stack on a free port, /health/live answers, the image's
// HEALTHCHECK command passes, and SIGTERM shuts it down gracefully. Kafka topics and the consumer
// group are private to this test, so it never takes messages or partitions from other suites.
import t from 'tap'
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, sep } from 'node:path'
import { spawn, execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { sleep } from '@flash/common'
import { createTopics } from '@flash/common/test-support'
import { Kafka, logLevel } from 'kafkajs'
import { ROOT, readCompose, type SERVICES, buildOf, buildArgs, envExample, envNamesRead } from './lib.ts'
import { replayDockerfile } from './replay.ts'

const compose = readCompose()

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

async function until (what: string, seconds: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`)
    await sleep(250)
  }
}

/** Ancestors of `dir` must not hold a node_modules, or a dependency missing from the copy would be found there. */
function noNodeModulesAbove (dir: string): boolean {
  let d = dirname(dir)
  for (;;) {
    if (existsSync(join(d, 'node_modules'))) return false
    const up = dirname(d)
    if (up === d) return true
    d = up
  }
}

/** One service's image, as one top-level test of the calling file (service-image-<service>.test.ts). */
export function serviceImageTest (svc: typeof SERVICES[number]): void {
  t.test(`${svc}: the image's build steps and CMD work in a clean copy, and it answers /health/live`, async (t) => {
    const build = buildOf(compose.services[svc]!)!
    const dockerfile = join(ROOT, build.context ?? '.', build.dockerfile!)
    const dir = mkdtempSync(join(tmpdir(), `image-${svc}-`))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    t.ok(noNodeModulesAbove(dir), `no node_modules above ${dir}`)

    const replay = replayDockerfile(dockerfile, buildArgs(build), dir)
    const { final } = replay
    const stageRuns = replay.stages.flatMap((s) => s.runs)
    t.ok(stageRuns.some((r) => /^npm ci\b.*--omit=dev\b.*--workspace services\/\S+/.test(r)), 'dependencies installed with npm ci --omit=dev for the workspace', { runs: stageRuns })
    t.same(replay.stages.flatMap((s) => s.skippedRuns), [], 'every RUN step was executed')

    // The image as it would start.
    t.ok(final.user && !/^(root|0)(:|$)/.test(final.user), `runs as a non-root user (${final.user})`)
    t.ok(Array.isArray(final.cmd) && final.cmd[0] === 'node', 'CMD is exec-form node: Node is PID 1 and gets SIGTERM', { cmd: final.cmd })
    t.equal(final.env.get('NODE_ENV'), 'production')
    const health = final.healthcheck
    t.ok(health, 'the image has a HEALTHCHECK')

    // Production dependencies only: nothing from the root's or the front end's devDependencies.
    const modules = join(final.root, 'app', 'node_modules')
    const installed = new Set(readdirSync(modules))
    // (@types/node may be present: mysql2 declares it as a peer dependency, and npm installs peers.)
    for (const dev of ['tap', 'typescript', 'vite', 'vue', 'autocannon', 'playwright-core', 'fast-check']) t.notOk(installed.has(dev), `${dev} is not in the image`)
    t.ok(existsSync(join(modules, '@flash', 'common')), '@flash/common is linked in')

    // Start it the way the container does: the image's ENV and compose's env file, with the
    // infrastructure at .env.example's local addresses, a free port, and private Kafka topics.
    const example = envExample()
    const read = await envNamesRead(svc)
    const portVariable = [...read].find((n) => /_PORT$/.test(n) && n !== 'MYSQL_PORT')!
    const port = await freePort()
    const suffix = randomUUID().slice(0, 8)
    const topic = `containers-test-${svc}-${suffix}`
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      ...Object.fromEntries(example),
      ...Object.fromEntries(final.env),
      [portVariable]: String(port),
      KAFKA_ORDERS_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_GROUP_ID: `containers-test-${suffix}`,
      LOG_LEVEL: 'warn'
    }
    const kafka = new Kafka({ clientId: 'containers-test', brokers: example.get('KAFKA_BROKERS')!.split(','), logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    t.teardown(async () => {
      await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => {})
      await admin.disconnect()
    })
    await createTopics(admin, [{ topic, numPartitions: 1 }, { topic: `${topic}.dlq`, numPartitions: 1 }])

    const [command, ...args] = final.cmd as string[]
    const cwd = replay.nativePath('.')
    t.ok(cwd.startsWith(dir + sep), `WORKDIR ${final.workdir} is inside the copy`)
    const child = spawn(command === 'node' ? process.execPath : command!, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })

    try {
      await until(`${svc} /health/live on :${port}`, 60, async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
        return (await fetch(`http://127.0.0.1:${port}/health/live`)).ok
      })
      t.pass(`/health/live answers on :${port}`)
    } catch (error) {
      t.fail(`${svc} did not answer /health/live: ${(error as Error).message}`, { output: output.slice(-4000) })
      return
    }

    // The HEALTHCHECK command of the image (/health/ready), with its absolute paths mapped.
    if (health && Array.isArray(health.cmd)) {
      const [hcCommand, ...hcArgs] = health.cmd.map((a) => a.startsWith('/') ? replay.nativePath(a) : a)
      let last = ''
      const ready = await until('the HEALTHCHECK to pass', 60, async () => {
        try {
          await promisify(execFile)(hcCommand === 'node' ? process.execPath : hcCommand!, hcArgs, { cwd, env, timeout: 10_000 })
          return true
        } catch (error) {
          last = String((error as { stderr?: string }).stderr ?? error)
          return false
        }
      }).then(() => true, () => false)
      t.ok(ready, 'the image\'s HEALTHCHECK command passes (/health/ready)', { last, output: output.slice(-2000) })
    }

    // SIGTERM: a graceful exit, within the grace period.
    child.kill('SIGTERM')
    const grace = Number(env.SHUTDOWN_GRACE_SECONDS ?? 10)
    const timer = setTimeout(() => child.kill('SIGKILL'), (grace + 5) * 1000)
    const [code, signal] = await exited
    clearTimeout(timer)
    t.equal(signal, null, 'exited by itself on SIGTERM, not killed', { output: output.slice(-2000) })
    t.equal(code, 0, 'exit code 0 after a graceful shutdown', { output: output.slice(-2000) })

    // Compose's one-shot `migrate` runs in this image: its command, in the copy, against the local
    // MySQL (make local has migrated it already, so this finds the schema current, or brings it up).
    const migrate = compose.services.migrate
    if (migrate !== undefined && migrate.image === compose.services[svc]!.image) {
      const [mCommand, ...mArgs] = (migrate.command as string[]).map((a) => a.startsWith('/') ? replay.nativePath(a) : a)
      t.ok(existsSync(mArgs[0]!), `migrate's script ${String((migrate.command as string[])[1])} is in the image`)
      t.ok(existsSync(replay.nativePath('/app/migrations/001_initial.sql')), 'and so are the migrations (/app/migrations)')
      const result = await promisify(execFile)(mCommand === 'node' ? process.execPath : mCommand!, mArgs, { cwd, env, timeout: 60_000 })
        .then(({ stdout }) => ({ code: 0, out: stdout }), (error: { code?: number, stdout?: string, stderr?: string }) => ({ code: error.code ?? 1, out: `${error.stdout ?? ''}${error.stderr ?? ''}` }))
      t.equal(result.code, 0, 'the migrate one-shot\'s command exits 0 (what compose waits for)', { output: result.out })
      t.match(result.out, /^migrate: (schema is current|applied \d{3}_)/m, 'and says what it did')
    }
  })
}
