import { component, componentNow } from './scenarios.ts'

// A broker or MySQL stop in the middle of a sale (FAULT=kafka|mysql): deploy/local/component.sh stops
// the component of `make local` once `afterAccepted` orders were accepted (so mid-sale, while units are
// still being sold) and starts it `downMs` later, always. It stops a component every service of the
// machine shares: keep the outage short (stopping and starting take seconds of their own).

export const FAULT_NAMES = ['kafka', 'mysql'] as const
export type FaultName = typeof FAULT_NAMES[number]

export interface FaultPlan { name: FaultName, afterAccepted: number, downMs: number }

export interface FaultOutcome {
  name: FaultName
  /** ms since the first request: the stop was asked, and the component was started again (null: it failed) */
  stoppedAtMs: number
  startedAtMs: number | null
  error: string | null
}

const COMPONENT: Record<FaultName, string> = { kafka: 'kafka', mysql: 'mariadb' }

export class Fault {
  readonly #plan: FaultPlan
  readonly #log: (message: string) => void
  #accepted = 0
  #cycle: Promise<{ stoppedAt: number, startedAt: number | null, error: string | null }> | null = null

  constructor (plan: FaultPlan, log: (message: string) => void) {
    this.#plan = plan
    this.#log = log
  }

  /** Called after every accepted order: the first call past `afterAccepted` starts the stop-wait-start cycle. */
  onAccepted (): void {
    if (this.#cycle !== null || ++this.#accepted < this.#plan.afterAccepted) return
    this.#cycle = this.#run()
  }

  async #run (): Promise<{ stoppedAt: number, startedAt: number | null, error: string | null }> {
    const name = COMPONENT[this.#plan.name]
    const stoppedAt = Date.now()
    this.#log(`fault: stopping ${name} for ${this.#plan.downMs} ms`)
    let error: string | null = null
    let startedAt: number | null = null
    // Interrupted during the outage (Ctrl-C): start it again before exiting.
    const startAndExit = (): void => {
      componentNow('start', name)
      process.exit(130)
    }
    process.once('SIGINT', startAndExit)
    process.once('SIGTERM', startAndExit)
    try {
      await component('stop', name)
      this.#log(`fault: ${name} stopped after ${Date.now() - stoppedAt} ms`)
      await new Promise((resolve) => setTimeout(resolve, this.#plan.downMs))
    } catch (stopError) {
      error = `stop: ${(stopError as Error).message}`
    } finally {
      // Always started again, whatever the stop did: everything on the machine shares it.
      try {
        const starting = Date.now()
        await component('start', name)
        startedAt = Date.now()
        this.#log(`fault: ${name} started again (starting took ${startedAt - starting} ms; down ${startedAt - stoppedAt} ms in all)`)
      } catch (startError) {
        error = `${error === null ? '' : `${error}; `}start: ${(startError as Error).message}`
      }
      process.off('SIGINT', startAndExit)
      process.off('SIGTERM', startAndExit)
    }
    return { stoppedAt, startedAt, error }
  }

  /** Waits until the component is back (or never went away), in ms since `epochAt0`. */
  async over (epochAt0: number): Promise<FaultOutcome | null> {
    if (this.#cycle === null) return null
    const { stoppedAt, startedAt, error } = await this.#cycle
    return { name: this.#plan.name, stoppedAtMs: stoppedAt - epochAt0, startedAtMs: startedAt === null ? null : startedAt - epochAt0, error }
  }
}
