import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level } from 'pino'

// Fastify gives every request a child logger bound to its request id. pino's child() builds its
// bindings string and options on each call: ~2 % of the gateway's CPU under the accept load, for a
// logger that on most requests writes nothing (request lines are debug; errors are rare). This child
// is made on the first line a request actually writes, with the same bindings and options, so a line
// reads exactly as before.

type Write = (...args: unknown[]) => void

class RequestLogger {
  readonly #parent: FastifyBaseLogger & { levels?: { values: Record<string, number> } }
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #child: FastifyBaseLogger | undefined

  constructor (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  get level (): string { return this.#child?.level ?? this.#options.level ?? this.#parent.level }
  set level (value: string) { this.#real().level = value }

  child (bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options)
  }

  // Methods on the prototype: nothing is allocated per request until a line is written.
  fatal (...args: unknown[]): void { this.#write('fatal', args) }
  error (...args: unknown[]): void { this.#write('error', args) }
  warn (...args: unknown[]): void { this.#write('warn', args) }
  info (...args: unknown[]): void { this.#write('info', args) }
  debug (...args: unknown[]): void { this.#write('debug', args) }
  trace (...args: unknown[]): void { this.#write('trace', args) }
  silent (): void {}

  #real (): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options))
  }

  #write (name: Level, args: unknown[]): void {
    if (this.#child === undefined && !this.#enabled(name)) return
    const real = this.#real()
    ;(real[name] as Write).apply(real, args)
  }

  /** Whether a line at `name` would be written (pino's numeric levels; without them, ask pino). */
  #enabled (name: Level): boolean {
    const values = this.#parent.levels?.values
    const level = this.level
    if (level === 'silent') return false
    if (values === undefined) return true
    const threshold = values[level]
    return threshold === undefined || (values[name] ?? 0) >= threshold
  }
}

/** Fastify's `childLoggerFactory`: the request's logger, made when first written to. */
export function lazyChildLogger (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}
