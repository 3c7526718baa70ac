// Replays a Dockerfile natively, without a Docker engine: each stage gets a directory standing for
// its filesystem root; COPY copies from the build context (filtered by .dockerignore) or from an
// earlier stage, WORKDIR/ENV/ARG are tracked with Docker's substitution rules, and RUN executes
// in the stage's working directory. Only RUN steps of stages built FROM the Node image are executed
// (this machine is not that image); other stages' RUNs are returned as `skippedRuns` for the caller
// to judge. The result says how the final image would start: CMD, HEALTHCHECK, USER, ENV, WORKDIR.
import { cpSync, mkdirSync, existsSync, statSync } from 'node:fs'
import { join, dirname, posix, relative } from 'node:path'
import { execFileSync } from 'node:child_process'
import { ROOT, parseDockerfile, substitute, splitFlags, parseEnvInstruction, execForm, dockerignore } from './lib.ts'

export interface Stage {
  name: string
  from: string
  root: string
  workdir: string
  env: Map<string, string>
  args: Map<string, string>
  user?: string
  cmd?: string[] | string
  healthcheck?: { options: Map<string, string>, cmd: string[] | string }
  runs: string[]
  skippedRuns: string[]
}

export interface Replay {
  stages: Stage[]
  final: Stage
  /** a path in the final image → the native path standing for it */
  nativePath: (containerPath: string) => string
}

export function replayDockerfile (dockerfile: string, buildArgs: ReadonlyMap<string, string>, dir: string, options: { execute?: (from: string) => boolean, log?: (line: string) => void } = {}): Replay {
  const instructions = parseDockerfile(dockerfile)
  const ignored = dockerignore()
  const execute = options.execute ?? ((from: string) => /^node:/.test(from))
  const globalArgs = new Map<string, string>()
  const stages: Stage[] = []
  let stage: Stage | undefined
  const inStage = (s: Stage, p: string) => join(s.root, posix.resolve(s.workdir, p))

  for (const ins of instructions) {
    const vars = new Map([...(stage?.args ?? globalArgs), ...(stage?.env ?? [])])
    switch (ins.keyword) {
      case 'ARG': {
        const [name, fallback] = ins.args.split(/=(.*)/s)
        const value = buildArgs.get(name!) ?? (fallback !== undefined ? substitute(fallback, vars) : (globalArgs.get(name!) ?? ''))
        ;(stage ? stage.args : globalArgs).set(name!, value)
        break
      }
      case 'FROM': {
        const words = ins.args.split(/\s+/)
        const from = substitute(words[0]!, globalArgs)
        const name = words[1]?.toUpperCase() === 'AS' ? words[2]! : String(stages.length)
        const root = join(dir, `stage-${stages.length}-${name}`)
        mkdirSync(root, { recursive: true })
        stage = { name, from, root, workdir: '/', env: new Map(), args: new Map(), runs: [], skippedRuns: [] }
        stages.push(stage)
        break
      }
      case 'WORKDIR':
        stage!.workdir = posix.resolve(stage!.workdir, substitute(ins.args, vars))
        mkdirSync(join(stage!.root, stage!.workdir), { recursive: true })
        break
      case 'ENV':
        for (const [k, v] of parseEnvInstruction(ins.args)) stage!.env.set(k, substitute(v, vars))
        break
      case 'USER':
        stage!.user = substitute(ins.args, vars)
        break
      case 'COPY': {
        const { flags, rest } = splitFlags(substitute(ins.args, vars))
        const dest = rest.pop()!
        const from = flags.get('from')
        const source = from === undefined ? undefined : stages.find((s) => s.name === from)
        if (from !== undefined && !source) throw new Error(`line ${ins.line}: COPY --from=${from}: no such stage`)
        const target = inStage(stage!, dest)
        const many = rest.length > 1 || dest.endsWith('/')
        for (const src of rest) {
          const origin = source ? join(source.root, posix.resolve('/', src)) : join(ROOT, src)
          if (!source && ignored(posix.normalize(src).replace(/^\.\/?/, '').replace(/\/$/, ''))) {
            throw new Error(`line ${ins.line}: COPY ${src}: excluded by .dockerignore`)
          }
          if (!existsSync(origin)) throw new Error(`line ${ins.line}: COPY ${src}: not found`)
          const to = many && !statSync(origin).isDirectory() ? join(target, posix.basename(src)) : target
          mkdirSync(dirname(to), { recursive: true })
          cpSync(origin, to, {
            recursive: true,
            verbatimSymlinks: true,
            // The build context as Docker sends it: without what .dockerignore leaves out.
            filter: (path) => source !== undefined || !ignored(relative(ROOT, path))
          })
        }
        break
      }
      case 'RUN': {
        const command = substitute(ins.args, vars) // what the shell would expand from ARG/ENV
        if (!execute(stage!.from)) { stage!.skippedRuns.push(command); break }
        options.log?.(`RUN ${command}`)
        execFileSync('sh', ['-c', command], {
          cwd: join(stage!.root, stage!.workdir),
          env: { ...process.env, ...Object.fromEntries(stage!.args), ...Object.fromEntries(stage!.env) },
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 280_000
        })
        stage!.runs.push(command)
        break
      }
      case 'CMD':
        stage!.cmd = execForm(ins.args) ?? ins.args
        break
      case 'HEALTHCHECK': {
        const m = /^((?:--\S+\s+)*)CMD\s+(.*)$/s.exec(ins.args)
        if (m) stage!.healthcheck = { options: splitFlags(m[1]!).flags, cmd: execForm(m[2]!) ?? m[2]! }
        break
      }
      default:
        break // EXPOSE, LABEL, STOPSIGNAL, … change nothing on disk
    }
  }
  if (!stage) throw new Error(`${dockerfile}: no FROM`)
  const final = stage
  return { stages, final, nativePath: (p: string) => join(final.root, posix.resolve(final.workdir, p)) }
}
