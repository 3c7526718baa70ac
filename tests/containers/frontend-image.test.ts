// The front-end image, natively: deploy/docker/frontend.Dockerfile's build stage is replayed (npm ci
// and the Vite build, as written there) in a clean temporary copy; the nginx stage's config is the
// very template `make local` renders (deploy/nginx/render.sh), rendered the way the nginx image's
// entrypoint does (envsubst of the variables its NGINX_ENVSUBST_FILTER admits, with the image's ENV
// and docker-compose.yml's environment) and accepted by `nginx -t`.
import t from 'tap'
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, mkdirSync, openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync, spawnSync } from 'node:child_process'
import { ROOT, readCompose, buildOf, buildArgs, environmentOf, parseDockerfile, splitFlags, parseEnvInstruction } from './lib.ts'
import { replayDockerfile } from './replay.ts'

const compose = readCompose()
const nginx = compose.services.nginx!
const build = buildOf(nginx)!
const dockerfile = join(ROOT, build.context ?? '.', build.dockerfile!)

/** The template render.sh (make local) renders, and the variables it names. */
function localTemplate (): { template: string, variables: string[] } {
  const script = readFileSync(join(ROOT, 'deploy/nginx/render.sh'), 'utf8')
  const template = /^TEMPLATE="\$ROOT\/([^"]+)"/m.exec(script)?.[1]
  const names = /envsubst '([^']+)'/.exec(script)?.[1]
  if (!template || !names) throw new Error('deploy/nginx/render.sh: cannot find TEMPLATE= or the envsubst variable list')
  return { template, variables: [...names.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]!) }
}

t.test('the nginx image uses the same template as make local, rendered the same way', async (t) => {
  const local = localTemplate()
  const ins = parseDockerfile(dockerfile)
  const copies = ins.filter((i) => i.keyword === 'COPY').map((i) => splitFlags(i.args)).filter((c) => !c.flags.has('from'))
  const templateCopy = copies.find((c) => c.rest.some((r) => r.endsWith('.template')))
  t.ok(templateCopy, 'the Dockerfile copies an nginx template')
  t.equal(templateCopy?.rest[0], local.template, `it is ${local.template}, the file render.sh renders`)
  t.match(templateCopy?.rest.at(-1), /^\/etc\/nginx\/templates\/nginx\.conf\.template$/, 'into the nginx image\'s templates directory')

  const env = new Map(ins.filter((i) => i.keyword === 'ENV').flatMap((i) => parseEnvInstruction(i.args)))
  t.equal(env.get('NGINX_ENVSUBST_OUTPUT_DIR'), '/etc/nginx', 'rendered to /etc/nginx/nginx.conf, the file nginx loads')
  const filter = new RegExp(env.get('NGINX_ENVSUBST_FILTER') ?? '')
  for (const v of local.variables) t.ok(filter.test(v), `the image substitutes ${v}`)
  for (const nginxOwn of ['host', 'uri', 'remote_addr', 'HOSTNAME', 'PATH', 'NGINX_VERSION']) t.notOk(filter.test(nginxOwn), `and leaves $${nginxOwn} alone`)
  // Every placeholder has a value in the container: from the image's ENV or compose's environment.
  const composeEnv = environmentOf(nginx)
  for (const v of local.variables) t.ok(env.has(v) || composeEnv.has(v), `${v} is set in the image or in docker-compose.yml`)
  // The Vite build goes where NGINX_ROOT points.
  const distCopy = ins.filter((i) => i.keyword === 'COPY').map((i) => splitFlags(i.args)).find((c) => c.flags.has('from') && /dist$/.test(c.rest[0] ?? ''))
  t.equal(distCopy?.rest.at(-1), env.get('NGINX_ROOT'), 'the Vite build is copied to NGINX_ROOT')
})

t.test('the front-end build stage works in a clean copy and nginx -t accepts the rendered config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'image-frontend-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const replay = replayDockerfile(dockerfile, buildArgs(build), dir)
  const buildStage = replay.stages.find((s) => /^node:/.test(s.from))!
  t.ok(buildStage.runs.some((r) => /^npm ci\b.*--workspace frontend/.test(r)), 'npm ci for the frontend workspace ran')
  t.ok(buildStage.runs.some((r) => /^npm run --workspace frontend build/.test(r)), 'the Vite build ran')
  const { final } = replay
  t.match(final.from, /^nginx:/, 'served by the nginx image')
  t.ok(final.user && !/^(root|0)(:|$)/.test(final.user), `nginx runs as a non-root user (${final.user})`)
  t.ok(final.healthcheck, 'the image has a HEALTHCHECK')
  // RUN steps of the nginx stage run only in the image (they chown its own directories).
  t.same(final.skippedRuns.map((r) => r.split(/\s+/)[0]), ['rm'], 'the only image-only step is the ownership fix-up')
  const html = join(final.root, final.env.get('NGINX_ROOT')!.replace(/^\//, ''), 'index.html')
  t.ok(existsSync(html), 'index.html is in the image\'s web root')
  t.match(readFileSync(html, 'utf8'), /<script[^>]+src="\/assets\/[^"]+\.js"/, 'it loads the hashed bundle from /assets/')

  // Render like the image's entrypoint: the image's ENV and compose's environment, filtered.
  const template = readFileSync(join(final.root, 'etc/nginx/templates/nginx.conf.template'), 'utf8')
  const vars = new Map([...final.env, ...environmentOf(nginx)])
  const filter = new RegExp(final.env.get('NGINX_ENVSUBST_FILTER') ?? '^$')
  // Natively, the compose service names do not resolve and the image's paths are not ours: point
  // the upstreams at 127.0.0.1 (same ports), and the root, pid and temp paths into the copy.
  const temp = join(dir, 'nginx-temp')
  mkdirSync(temp, { recursive: true })
  const native = new Map(vars)
  const upstreams = [...vars.keys()].filter((k) => k.endsWith('_UPSTREAM')).sort()
  t.same(upstreams, ['CATALOG_UPSTREAM', 'GATEWAY_UPSTREAM', 'PAYMENT_UPSTREAM', 'PROCESSOR_UPSTREAM'], 'compose gives nginx an upstream for each of the four services')
  for (const k of upstreams) native.set(k, vars.get(k)!.replace(/^[^:]+:/, '127.0.0.1:'))
  native.set('NGINX_ROOT', join(final.root, vars.get('NGINX_ROOT')!))
  native.set('NGINX_PID', join(dir, 'nginx.pid'))
  native.set('NGINX_TEMP_DIR', temp)
  const rendered = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => filter.test(name) && native.has(name) ? native.get(name)! : whole)
  t.notMatch(rendered, /\$\{[A-Z_]+\}/, 'no placeholder is left unrendered')
  t.match(rendered, new RegExp(`listen ${vars.get('NGINX_PORT')};`), 'listens on NGINX_PORT')
  t.match(rendered, new RegExp(`set \\$payment_target ${vars.get('PAYMENT_TARGET')};`), 'the payment routes go to the payment-service by its compose name')
  // The image's HEALTHCHECK goes through to every service, the payment-service included.
  t.match(String(final.healthcheck?.cmd), /\/docs\/payments\/json/, 'the HEALTHCHECK reaches the payment-service through nginx')
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, rendered)
  // nginx opens /dev/stdout and /dev/stderr (the config logs there); Node's pipes are sockets,
  // which cannot be opened that way, so its output goes to a file as in a container's log.
  const log = join(dir, 'nginx-t.log')
  const fd = openSync(log, 'w')
  const check = spawnSync('nginx', ['-e', 'stderr', '-p', dir, '-c', conf, '-t'], { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  t.equal(check.status, 0, 'nginx -t accepts the config the image renders', { output: readFileSync(log, 'utf8') })

  // And envsubst itself (what both the image and render.sh run) gives the same file.
  const names = [...filter.source.matchAll(/[A-Z_]{3,}/g)].map((m) => `\${${m[0]}}`).join(' ')
  const viaEnvsubst = execFileSync('envsubst', [names], { input: template, env: { PATH: process.env.PATH, ...Object.fromEntries(native) }, encoding: 'utf8' })
  t.equal(viaEnvsubst, rendered, 'envsubst renders it identically')
})
