// What the container tests read: docker-compose.yml as Compose sees it (YAML merge keys, variable
// interpolation, env_file resolution), the Dockerfiles as instructions, .dockerignore as a filter,
// and the environment variables each service reads. No Docker engine is needed for any of it.
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'yaml'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml')
export const DEBUG_OVERRIDE_FILE = join(ROOT, 'deploy/docker/compose.debug.yml')

/** The services that are built from this repo, by workspace name. */
export const SERVICES = ['catalog-service', 'order-gateway', 'order-processor', 'payment-service'] as const

// ---- .env files ---------------------------------------------------------------------------------

/** KEY=value lines of a dotenv file (comments and blank lines skipped, no quoting in ours). */
export function readEnvFile (file: string): Map<string, string> {
  const vars = new Map<string, string>()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim())
    // Surrounding quotes are not part of the value (Compose's env_file and make local both drop them).
    if (match) vars.set(match[1]!, match[2]!.replace(/^"(.*)"$/, '$1'))
  }
  return vars
}

export const envExample = (): Map<string, string> => readEnvFile(join(ROOT, '.env.example'))

// ---- compose ------------------------------------------------------------------------------------

export interface ComposeBuild { context?: string, dockerfile?: string, args?: Record<string, string> | string[], target?: string }
export interface ComposeService {
  image?: string
  build?: ComposeBuild | string
  environment?: Record<string, string | number | null> | string[]
  env_file?: string | Array<string | { path: string, required?: boolean }>
  healthcheck?: { test?: string | string[], disable?: boolean }
  depends_on?: string[] | Record<string, { condition?: string, required?: boolean }>
  ports?: Array<string | number | Record<string, unknown>>
  container_name?: string
  command?: string | string[]
  entrypoint?: string | string[]
  volumes?: Array<string | Record<string, unknown>>
  restart?: string
  init?: boolean
  profiles?: string[]
  [key: string]: unknown
}
export interface ComposeFile { services: Record<string, ComposeService>, volumes?: Record<string, unknown>, [key: string]: unknown }

/** The YAML document with merge keys (<<) applied, as Compose reads it; not interpolated. */
export function readComposeRaw (file = COMPOSE_FILE): ComposeFile {
  return parse(readFileSync(file, 'utf8'), { merge: true }) as ComposeFile
}

/**
 * Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $VAR and $$ (a
 * literal $), with `vars` standing for the shell plus .env. Unset variables without a default
 * become '' as in Compose (which warns).
 */
export function interpolate (text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (whole === '$$') return '$' // an escaped $: the container sees one
      const name = (braced ?? bare)!
      const value = vars.get(name)
      const unsetOrEmpty = value === undefined || (op?.startsWith(':') === true && value === '')
      if (op === ':-' || op === '-') return unsetOrEmpty ? (arg ?? '') : value!
      if ((op === ':?' || op === '?') && unsetOrEmpty) throw new Error(`required variable ${name}: ${arg ?? ''}`)
      return value ?? ''
    })
}

/** Every ${VAR:-default} in the raw file: [name, default]. */
export function interpolationDefaults (file = COMPOSE_FILE): Array<[string, string]> {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^}]*)\}/g)].map((m) => [m[1]!, m[2]!])
}

/** The compose file interpolated with `vars` (by default: nothing set, so every default applies). */
export function readCompose (file = COMPOSE_FILE, vars: ReadonlyMap<string, string> = new Map()): ComposeFile {
  const text = readFileSync(file, 'utf8')
  // Interpolate line by line outside comments, the way values are interpolated after parsing.
  const interpolated = text.split('\n').map((line) => /^\s*#/.test(line) ? line : interpolate(line, vars)).join('\n')
  return parse(interpolated, { merge: true }) as ComposeFile
}

export function environmentOf (service: ComposeService): Map<string, string> {
  const env = new Map<string, string>()
  const given = service.environment
  if (Array.isArray(given)) {
    for (const entry of given) {
      const i = entry.indexOf('=')
      if (i > 0) env.set(entry.slice(0, i), entry.slice(i + 1))
    }
  } else if (given) {
    for (const [k, v] of Object.entries(given)) if (v !== null) env.set(k, String(v))
  }
  return env
}

export function envFilesOf (service: ComposeService): Array<{ path: string, required: boolean }> {
  const files = service.env_file === undefined ? [] : Array.isArray(service.env_file) ? service.env_file : [service.env_file]
  return files.map((f) => typeof f === 'string' ? { path: f, required: true } : { path: f.path, required: f.required ?? true })
}

/**
 * The variables a container of `service` starts with, as Compose assembles them: env_file entries
 * in order (missing optional files skipped), then `environment` over them. `.env` is left out so the
 * answer is the defaults', whatever a developer's local .env says.
 */
export function containerEnv (service: ComposeService): Map<string, string> {
  const env = new Map<string, string>()
  for (const file of envFilesOf(service)) {
    if (file.path === '.env') continue
    const path = join(ROOT, file.path)
    if (!existsSync(path)) {
      if (file.required) throw new Error(`env_file ${file.path} is required but missing`)
      continue
    }
    for (const [k, v] of readEnvFile(path)) env.set(k, v)
  }
  for (const [k, v] of environmentOf(service)) env.set(k, v)
  return env
}

export function dependsOn (service: ComposeService): Map<string, string> {
  const deps = new Map<string, string>()
  const given = service.depends_on
  if (Array.isArray(given)) for (const d of given) deps.set(d, 'service_started')
  else if (given) for (const [d, spec] of Object.entries(given)) deps.set(d, spec?.condition ?? 'service_started')
  return deps
}

export function buildOf (service: ComposeService): ComposeBuild | undefined {
  if (service.build === undefined) return undefined
  return typeof service.build === 'string' ? { context: service.build } : service.build
}

export function buildArgs (build: ComposeBuild): Map<string, string> {
  const args = new Map<string, string>()
  if (Array.isArray(build.args)) {
    for (const entry of build.args) { const i = entry.indexOf('='); if (i > 0) args.set(entry.slice(0, i), entry.slice(i + 1)) }
  } else if (build.args) {
    for (const [k, v] of Object.entries(build.args)) args.set(k, String(v))
  }
  return args
}

// ---- Dockerfiles --------------------------------------------------------------------------------

export interface Instruction { keyword: string, args: string, line: number }

/** Instructions of a Dockerfile, with continuation lines joined and comments dropped. */
export function parseDockerfile (file: string): Instruction[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  const out: Instruction[] = []
  let pending = ''
  let start = 0
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    if (pending === '' && /^\s*(#.*)?$/.test(raw)) continue
    if (pending !== '' && /^\s*#/.test(raw)) continue // comment inside a continued instruction
    if (pending === '') start = i + 1
    const trimmed = raw.replace(/\s+$/, '')
    if (trimmed.endsWith('\\')) { pending += trimmed.slice(0, -1) + ' '; continue }
    pending += trimmed
    const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(pending)
    if (match) out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start })
    pending = ''
  }
  return out
}

/** Dockerfile variable substitution ($VAR, ${VAR}, ${VAR:-default}) in the instructions that allow it. */
export function substitute (text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_w, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      const value = vars.get((braced ?? bare)!)
      if (op === '-') return value || (arg ?? '')
      if (op === '+') return value ? (arg ?? '') : ''
      return value ?? ''
    })
}

/** Splits `--flag=value --flag2 rest…` into flags and the remaining words (shell-like, no quotes). */
export function splitFlags (args: string): { flags: Map<string, string>, rest: string[] } {
  const words = args.split(/\s+/).filter(Boolean)
  const flags = new Map<string, string>()
  while (words[0]?.startsWith('--')) {
    const [k, v = 'true'] = words.shift()!.slice(2).split(/=(.*)/s)
    flags.set(k!, v)
  }
  return { flags, rest: words }
}

/** ENV's two forms: `K=v K2="v 2"` and the legacy `K v`. */
export function parseEnvInstruction (args: string): Array<[string, string]> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [k, ...v] = args.split(/\s+/)
    return [[k!, v.join(' ')]]
  }
  const pairs: Array<[string, string]> = []
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("([^"\\]*(?:\\.[^"\\]*)*)"|'([^']*)'|(\S*))/g
  for (const m of args.matchAll(re)) pairs.push([m[1]!, m[3] ?? m[4] ?? m[5] ?? ''])
  return pairs
}

/** CMD / ENTRYPOINT / HEALTHCHECK CMD: the exec form's argument list, or null for the shell form. */
export function execForm (args: string): string[] | null {
  const trimmed = args.trim()
  if (!trimmed.startsWith('[')) return null
  const parsed: unknown = JSON.parse(trimmed)
  return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed as string[] : null
}

// ---- .dockerignore ------------------------------------------------------------------------------

/** A path filter with .dockerignore semantics: the last matching rule wins, `!` re-includes. */
export function dockerignore (file = join(ROOT, '.dockerignore')): (relativePath: string) => boolean {
  const rules = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!')
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '')
      const source = pattern.split('/').map((part) => part === '**'
        ? '(?:.*)'
        : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?')
      // A rule that matches a directory excludes everything beneath it.
      return { negate, re: new RegExp(`^${source}(?:/.*)?$`) }
    })
  return (relativePath: string) => {
    let excluded = false
    for (const rule of rules) if (rule.re.test(relativePath)) excluded = !rule.negate
    return excluded
  }
}

// ---- the environment variables the services read --------------------------------------------------

/**
 * Every variable `service` reads: the keys of the env schema objects its src/config.ts exports
 * (imported, so spreads of the common groups and HttpEnv(...) are resolved exactly as the service
 * sees them), plus any `process.env.NAME` / `process.env['NAME']` read anywhere in its sources or
 * common's.
 */
export async function envNamesRead (service: string): Promise<Set<string>> {
  const names = new Set<string>()
  const config = join(ROOT, 'services', service, 'src', 'config.ts')
  const module = await import(pathToFileURL(config).href) as Record<string, unknown>
  for (const value of Object.values(module)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue
    const keys = Object.keys(value)
    // An env schema object: UPPER_SNAKE keys whose values are TypeBox schemas (plain objects).
    if (keys.length > 0 && keys.every((k) => /^[A-Z][A-Z0-9_]*$/.test(k) && typeof (value as Record<string, unknown>)[k] === 'object')) {
      for (const k of keys) names.add(k)
    }
  }
  for (const dir of [join(ROOT, 'services', service, 'src'), join(ROOT, 'services', 'common', 'src')]) {
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g)) names.add((m[1] ?? m[2])!)
    }
  }
  return names
}

function sourceFiles (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
}
