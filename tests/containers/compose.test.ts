// docker-compose.yml, checked without a Docker engine: it is a valid Compose file, every long-running
// container has a healthcheck, every variable a service reads is set, the start order is a DAG of
// existing services (the schema's one-shot `migrate` before every service), the scalable services
// can scale, and it matches `make local` where it must.
import t from 'tap'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import {
  ROOT, COMPOSE_FILE, DEBUG_OVERRIDE_FILE, SERVICES, readCompose, readComposeRaw, interpolationDefaults, envExample,
  containerEnv, dependsOn, buildOf, buildArgs, parseDockerfile, envNamesRead, envFilesOf, environmentOf, dockerignore,
  type ComposeFile
} from './lib.ts'

const require = createRequire(import.meta.url)
// ajv is CommonJS; the 2020-12 build matches the schema's $schema.
const Ajv2020 = require('ajv/dist/2020').default as typeof import('ajv').default
const addFormats = require('ajv-formats') as (ajv: InstanceType<typeof Ajv2020>) => void

const compose = readCompose()
const services = compose.services
const ONE_SHOTS = ['migrate', 'redis-cluster', 'kafka-topics']
/** What each service needs before it starts: the payment-service uses no Redis, but stripe-mock. */
const NEEDS: Record<typeof SERVICES[number], string[]> = {
  'catalog-service': ['kafka-topics', 'migrate', 'mysql', 'redis-cluster'],
  'order-gateway': ['kafka-topics', 'migrate', 'mysql', 'redis-cluster'],
  'order-processor': ['kafka-topics', 'migrate', 'mysql', 'redis-cluster'],
  'payment-service': ['kafka-topics', 'migrate', 'mysql', 'stripe-mock']
}
/** The official stripe/stripe-mock image's ENTRYPOINT serves HTTP on this port (HTTPS on 12112). */
const STRIPE_MOCK_HTTP_PORT = 12111
const SCALABLE = [...SERVICES]

function validator () {
  const schema = JSON.parse(readFileSync(join(ROOT, 'tests/containers/compose-spec/compose-spec.json'), 'utf8')) as object
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  addFormats(ajv)
  return ajv.compile(schema)
}

t.test('docker-compose.yml and the debug override satisfy the Compose Specification schema', async (t) => {
  const validate = validator()
  for (const [name, doc] of [['docker-compose.yml', compose], ['compose.debug.yml', readCompose(DEBUG_OVERRIDE_FILE)]] as Array<[string, ComposeFile]>) {
    const ok = validate(doc)
    t.ok(ok, `${name} is valid`, { errors: validate.errors?.slice(0, 10) })
  }
  // Also with every variable set (what a developer's .env does), the file stays valid.
  const everySet = readCompose(COMPOSE_FILE, envExample())
  t.ok(validate(everySet), 'valid with .env.example values interpolated', { errors: validate.errors?.slice(0, 10) })
})

t.test('every interpolation default equals .env.example, so make up and make local agree', async (t) => {
  const example = envExample()
  for (const file of [COMPOSE_FILE, DEBUG_OVERRIDE_FILE]) {
    for (const [name, fallback] of interpolationDefaults(file)) {
      t.equal(fallback, example.get(name), `${name} defaults to .env.example's value in ${file.slice(ROOT.length + 1)}`)
    }
  }
})

t.test('every long-running service has a healthcheck; one-shots are gated on completion', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    if (ONE_SHOTS.includes(name)) {
      t.equal(service.restart, 'no', `${name} runs once`)
      continue
    }
    t.not(service.healthcheck?.disable, true, `${name}'s healthcheck is not disabled`)
    if (service.healthcheck?.test) continue
    // No compose healthcheck: the image built here must have one (HEALTHCHECK in its Dockerfile).
    const build = buildOf(service)
    t.ok(build?.dockerfile, `${name} has a healthcheck in compose or a Dockerfile of its own`)
    if (!build?.dockerfile) continue
    const healthchecks = parseDockerfile(join(ROOT, build.context ?? '.', build.dockerfile)).filter((i) => i.keyword === 'HEALTHCHECK')
    t.ok(healthchecks.length > 0 && !/^NONE\b/i.test(healthchecks.at(-1)!.args), `${name}: ${build.dockerfile} has a HEALTHCHECK`)
  }
  for (const [name, service] of Object.entries(services)) {
    for (const [dep, condition] of dependsOn(service)) {
      if (ONE_SHOTS.includes(dep)) t.equal(condition, 'service_completed_successfully', `${name} waits for ${dep} to finish`)
      else t.equal(condition, 'service_healthy', `${name} waits for ${dep} to be healthy`)
    }
  }
})

t.test('every depends_on target exists and the dependency graph has no cycle', async (t) => {
  const names = new Set(Object.keys(services))
  for (const [name, service] of Object.entries(services)) {
    for (const dep of dependsOn(service).keys()) t.ok(names.has(dep), `${name} depends on ${dep}, which exists`)
  }
  // Depth-first search; a grey node met again is a cycle.
  const state = new Map<string, 'grey' | 'black'>()
  const cycles: string[][] = []
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'black') return
    if (state.get(name) === 'grey') { cycles.push([...path.slice(path.indexOf(name)), name]); return }
    state.set(name, 'grey')
    for (const dep of dependsOn(services[name] ?? {}).keys()) if (names.has(dep)) visit(dep, [...path, name])
    state.set(name, 'black')
  }
  for (const name of names) visit(name, [])
  t.same(cycles, [], 'no cycle')
  // nginx's upstream names must resolve when it starts: it waits for all four services.
  t.same([...dependsOn(services.nginx!).keys()].sort(), [...SERVICES].sort(), 'nginx waits for every service it proxies')
  for (const svc of SERVICES) {
    t.same([...dependsOn(services[svc]!).keys()].sort(), NEEDS[svc], `${svc} waits for ${NEEDS[svc].join(', ')}`)
    t.equal(dependsOn(services[svc]!).get('migrate'), 'service_completed_successfully', `${svc} starts only on a migrated schema`)
  }
})

t.test('every environment variable a service reads is set for its container', async (t) => {
  for (const svc of SERVICES) {
    const service = services[svc]
    t.ok(service, `${svc} is a compose service`)
    if (!service) continue
    const env = containerEnv(service)
    const read = await envNamesRead(svc)
    t.ok(read.size > 5, `${svc}: found the variables it reads (${read.size})`)
    for (const name of [...read].sort()) t.ok(env.has(name), `${svc}: ${name} is set in compose (env_file .env.example or environment)`)
    // Containers reach the infrastructure by service name, never 127.0.0.1.
    t.equal(env.get('MYSQL_HOST'), 'mysql')
    t.equal(env.get('MYSQL_PORT'), '3306')
    if (read.has('REDIS_NODES')) t.equal(env.get('REDIS_NODES'), [1, 2, 3, 4, 5, 6].map((n) => `redis-${n}:6379`).join(','))
    t.equal(env.get('KAFKA_BROKERS'), 'kafka:9092')
    for (const name of read) {
      if (/^MYSQL_HOST$|_(NODES|BROKERS|UPSTREAM|API_URL|WEBHOOK_URL)$/.test(name)) t.notMatch(env.get(name), /127\.0\.0\.1|localhost/, `${svc}: ${name} is not a loopback address`)
    }
    const http = [...read].find((n) => /_HOST$/.test(n) && n !== 'MYSQL_HOST')
    if (http) t.equal(env.get(http), '0.0.0.0', `${svc} listens on every interface (${http})`)
  }
  // The payment-service reaches stripe-mock by its compose name and HTTP port, and its sandbox
  // delivers events to its own webhook route by its compose name and the port it listens on.
  const payment = containerEnv(services['payment-service']!)
  t.equal(payment.get('STRIPE_API_URL'), `http://stripe-mock:${STRIPE_MOCK_HTTP_PORT}`, 'STRIPE_API_URL is stripe-mock\'s HTTP port')
  t.equal(payment.get('PAYMENTS_WEBHOOK_URL'), `http://payment-service:${payment.get('PAYMENT_PORT')}/payments/webhook`, 'sandbox events go to the payment-service\'s webhook route')
  t.match(payment.get('STRIPE_SECRET_KEY'), /^sk_test_/, 'a test key (stripe-mock accepts any sk_test_ key)')
  // The env files are the ones make local reads, in the same order (.env over .env.example).
  for (const svc of SERVICES) t.same(envFilesOf(services[svc]!), [{ path: '.env.example', required: true }, { path: '.env', required: false }])
})

t.test('only nginx publishes a port; the services can be scaled', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    if (name === 'nginx') continue
    t.same(service.ports ?? [], [], `${name} publishes no port (compose.debug.yml does, for debugging)`)
  }
  const example = envExample()
  t.same(services.nginx!.ports, [`${example.get('NGINX_PORT')}:${example.get('NGINX_PORT')}`], 'nginx publishes NGINX_PORT')
  t.equal(environmentOf(services.nginx!).get('NGINX_PORT'), example.get('NGINX_PORT'), 'and listens on it')
  for (const name of SCALABLE) {
    t.notOk(services[name]!.container_name, `${name} has no fixed container name`)
    t.same(services[name]!.ports ?? [], [], `${name} has no host port`)
  }
  // The debug override binds scalable services to Docker-chosen host ports only.
  const debug = readCompose(DEBUG_OVERRIDE_FILE)
  for (const name of SCALABLE) {
    for (const port of debug.services[name]?.ports ?? []) t.match(String(port), /^127\.0\.0\.1::\d+$/, `${name}: debug port ${String(port)} is scalable`)
  }
})

t.test('nginx upstreams name the compose services on the ports the services listen on', async (t) => {
  const env = environmentOf(services.nginx!)
  const upstreams: Array<[string, string, string]> = [
    ['CATALOG', 'catalog-service', 'CATALOG_PORT'],
    ['GATEWAY', 'order-gateway', 'GATEWAY_PORT'],
    ['PROCESSOR', 'order-processor', 'PROCESSOR_PORT'],
    ['PAYMENT', 'payment-service', 'PAYMENT_PORT']
  ]
  for (const [prefix, service, portVariable] of upstreams) {
    const address = `${service}:${containerEnv(services[service]!).get(portVariable)}`
    t.equal(env.get(`${prefix}_UPSTREAM`), address, `${prefix}_UPSTREAM → ${service}`)
    t.equal(env.get(`${prefix}_TARGET`), address, `${prefix}_TARGET → ${service}`)
  }
  t.equal(upstreams.length, SERVICES.length, 'one upstream per service')
})

t.test('the infrastructure matches the topology of make local', async (t) => {
  t.equal(services.mysql!.image, 'mysql:8.4')
  t.notOk((services.mysql!.volumes ?? []).some((v) => /docker-entrypoint-initdb\.d/.test(String(v))), 'mysql runs no init script: the schema is migrate\'s')
  t.ok((services.mysql!.volumes ?? []).some((v) => String(v).startsWith('mysql-data:')), 'mysql keeps its data in a volume')
  // migrate waits for mysql's healthcheck, so that check cannot need any table the migrations make.
  const mysqlCheck = [services.mysql!.healthcheck?.test ?? []].flat().join(' ')
  t.match(mysqlCheck, /--protocol=tcp/, 'mysql is healthy only once it listens on TCP (not the entrypoint\'s init server)')
  t.notMatch(mysqlCheck, /\bFROM\s/i, 'and its healthcheck reads no table (none exists before migrate)')

  // The schema: one runner (make local's), in a service image, once MySQL answers.
  const migrate = services.migrate!
  t.ok(migrate, 'a migrate one-shot')
  t.ok(SERVICES.some((svc) => services[svc]!.image === migrate.image), `it runs in a service image built here (${migrate.image})`)
  t.notOk(migrate.build, 'it builds nothing itself (the service it borrows the image from does)')
  t.same(migrate.command, ['node', '/app/services/common/src/scripts/migrate.ts'], 'it runs the migration runner make local runs')
  t.ok(existsSync(join(ROOT, 'services/common/src/scripts/migrate.ts')), 'which exists')
  t.ok(parseDockerfile(join(ROOT, 'deploy/docker/service.Dockerfile')).some((i) => i.keyword === 'COPY' && /^migrations\s+migrations$/.test(i.args)),
    'service.Dockerfile copies migrations/ into the image (/app/migrations)')
  t.same(Object.fromEntries(dependsOn(migrate)), { mysql: 'service_healthy' }, 'migrate waits for mysql only')
  const migrateEnv = containerEnv(migrate)
  t.equal(migrateEnv.get('MYSQL_HOST'), 'mysql')
  t.equal(migrateEnv.get('MYSQL_PORT'), '3306')
  for (const name of ['MYSQL_USER', 'MYSQL_PASSWORD', 'MYSQL_DATABASE']) t.equal(migrateEnv.get(name), containerEnv(services['catalog-service']!).get(name), `migrate uses the services' ${name}`)

  // stripe-mock: the official image, pinned, checked by an API call with a test key.
  const stripeMock = services['stripe-mock']!
  t.equal(stripeMock.image, 'stripe/stripe-mock:v0.203.0', 'the official stripe-mock image, pinned')
  const stripeCheck = [stripeMock.healthcheck?.test ?? []].flat().join(' ')
  t.match(stripeCheck, new RegExp(`http://127\\.0\\.0\\.1:${STRIPE_MOCK_HTTP_PORT}/v1/`), 'its healthcheck calls its API')
  t.match(stripeCheck, /Authorization: Bearer sk_test_/, 'with a test key (stripe-mock refuses a call without one)')
  t.equal(dependsOn(services['payment-service']!).get('stripe-mock'), 'service_healthy', 'the payment-service waits for it')
  const redisNodes = Object.keys(services).filter((n) => /^redis-\d+$/.test(n))
  t.equal(redisNodes.length, 6, 'six Redis nodes')
  const conf = readFileSync(join(ROOT, 'deploy/docker/redis/redis-node.conf'), 'utf8')
  t.match(conf, /^cluster-enabled yes$/m)
  t.match(conf, /^appendonly yes$/m)
  t.match(conf, /^cluster-preferred-endpoint-type hostname$/m)
  for (const n of redisNodes) {
    const s = services[n]!
    t.match(s.image, /^redis:7(\.|$)/, `${n} runs redis 7`)
    t.same((s.command as string[]).slice(-2), ['--cluster-announce-hostname', n], `${n} announces its own service name`)
    t.ok((s.volumes ?? []).some((v) => String(v).startsWith(`${n}-data:/data`)), `${n} keeps nodes.conf and AOF in a volume`)
  }
  const creator = readFileSync(join(ROOT, 'deploy/docker/redis/create-cluster.sh'), 'utf8')
  t.match(creator, /redis-cli --cluster create \$addrs --cluster-replicas 1/)
  t.same([...dependsOn(services['redis-cluster']!).keys()].sort(), redisNodes.sort(), 'the creator waits for all six nodes')
  t.equal(environmentOf(services['redis-cluster']!).get('REDIS_CLUSTER_NODES')!.split(' ').join(','), containerEnv(services['order-gateway']!).get('REDIS_NODES'),
    'the creator forms the cluster from the nodes the services are given')

  // Kafka: the same version as the jars make local runs, KRaft without ZooKeeper.
  const pom = readFileSync(join(ROOT, 'deploy/kafka/pom.xml'), 'utf8')
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]
  t.ok(version, 'deploy/kafka/pom.xml names a kafka.version')
  t.equal(services.kafka!.image, `apache/kafka:${version}`, 'apache/kafka image = make local\'s jars')
  t.equal(services['kafka-topics']!.image, services.kafka!.image)
  const kenv = environmentOf(services.kafka!)
  t.equal(kenv.get('KAFKA_PROCESS_ROLES'), 'broker,controller', 'KRaft combined mode')
  t.notOk([...kenv.keys()].some((k) => /ZOOKEEPER/.test(k)), 'no ZooKeeper')
  t.match(kenv.get('CLUSTER_ID'), /^[A-Za-z0-9_-]{22}$/, 'CLUSTER_ID is a base64 UUID')
  t.equal(kenv.get('KAFKA_AUTO_CREATE_TOPICS_ENABLE'), 'false')
  t.match(kenv.get('KAFKA_ADVERTISED_LISTENERS'), /PLAINTEXT:\/\/kafka:9092/, 'advertises the address the services use')
  const local = readFileSync(join(ROOT, 'deploy/kafka/server.properties.template'), 'utf8')
  for (const key of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'transaction.state.log.min.isr', 'group.initial.rebalance.delay.ms', 'auto.create.topics.enable', 'num.partitions']) {
    const want = new RegExp(`^${key.replace(/\./g, '\\.')}=(.*)$`, 'm').exec(local)?.[1]
    t.equal(kenv.get(`KAFKA_${key.toUpperCase().replace(/\./g, '_')}`), want, `${key} as in make local's server.properties`)
  }
  const topics = readFileSync(join(ROOT, 'deploy/docker/kafka/create-topics.sh'), 'utf8')
  t.match(topics, /ensure_topic "\$ORDERS" "\$ORDERS_PARTITIONS"/)
  t.match(topics, /ensure_topic "\$DLQ" "\$DLQ_PARTITIONS"/)
  const tenv = containerEnv(services['kafka-topics']!)
  t.equal(tenv.get('KAFKA_ORDERS_TOPIC'), 'orders')
  t.equal(tenv.get('KAFKA_DLQ_TOPIC'), 'orders.dlq')
  t.equal(tenv.get('KAFKA_ORDERS_PARTITIONS'), '12')
})

t.test('files that compose mounts or builds from exist', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    for (const v of service.volumes ?? []) {
      const source = String(v).split(':')[0]!
      if (source.startsWith('./')) t.ok(existsSync(join(ROOT, source)), `${name} mounts ${source}`)
    }
    const build = buildOf(service)
    if (build) {
      t.ok(existsSync(join(ROOT, build.context ?? '.', build.dockerfile ?? 'Dockerfile')), `${name} builds from ${build.dockerfile}`)
      if (SERVICES.includes(name as typeof SERVICES[number])) t.equal(buildArgs(build).get('SERVICE'), name, `${name} builds with SERVICE=${name}`)
    }
  }
  // The raw file uses YAML merge keys; make sure they expanded (a parser without merge support
  // would silently drop the shared settings).
  t.equal(readComposeRaw().services['order-gateway']!.init, true, 'YAML merge keys applied')
})

t.test('.dockerignore keeps installed dependencies, local data and secrets out of the build context', async (t) => {
  const ignored = dockerignore()
  for (const path of ['node_modules', 'node_modules/fastify/package.json', 'services/common/node_modules', 'frontend/node_modules/vite',
    '.local', '.local/data/mariadb/ibdata1', '.tools/kafka-libs', '.git', '.env', 'frontend/dist/index.html', 'services/order-gateway/test/orders.test.ts']) {
    t.ok(ignored(path), `${path} is excluded`)
  }
  for (const path of ['package.json', 'package-lock.json', '.env.example', 'services/common/src/index.ts', 'services/order-gateway/src/server.ts',
    'frontend/src/main.ts', 'deploy/nginx/nginx.conf.template', 'deploy/docker/healthcheck.mjs']) {
    t.notOk(ignored(path), `${path} is in the context`)
  }
})

t.test('every VOLUME of the base images is mounted, so no container gets an anonymous volume', async (t) => {
  // The VOLUME lines of the official images (docker-library mysql and redis, apache/kafka's
  // docker/jvm/Dockerfile). An unmounted one becomes an anonymous volume, which compose hands by
  // name to the container's replacement when it recreates it, and Docker then never removes.
  const imageVolumes: Record<string, string[]> = {
    mysql: ['/var/lib/mysql'],
    redis: ['/data'],
    'apache/kafka': ['/etc/kafka/secrets', '/var/lib/kafka/data', '/mnt/shared/config'],
    // stripe/stripe-mock's Dockerfile (alpine + the binary) declares none; listed so a new one is noticed here.
    'stripe/stripe-mock': []
  }
  const target = (v: string | Record<string, unknown>): string => typeof v === 'string' ? v.split(':')[1] ?? '' : String(v.target ?? '')
  let checked = 0
  for (const [name, service] of Object.entries(services)) {
    const paths = imageVolumes[(service.image ?? '').split(':')[0]!]
    if (!paths) continue
    const mounted = new Set((service.volumes ?? []).map(target))
    for (const path of paths) t.ok(mounted.has(path), `${name} mounts ${path} (${service.image}'s VOLUME)`)
    checked++
  }
  t.equal(checked, 11, 'mysql, six redis nodes, redis-cluster, kafka, kafka-topics and stripe-mock are checked')
  // The rest run images built here (service.Dockerfile, frontend.Dockerfile), which declare no VOLUME.
  for (const file of ['deploy/docker/service.Dockerfile', 'deploy/docker/frontend.Dockerfile']) {
    t.same(parseDockerfile(join(ROOT, file)).filter((i) => i.keyword === 'VOLUME'), [], `${file} declares no VOLUME`)
  }
})
