import { component } from './scenarios.ts'

// A broker or MySQL stop in the middle of a sale (FAULT=kafka|mysql): deploy/local/component.sh stops
// the component of `make local` once `afterAnswered` requests were answered and starts it `downMs`
// later. It stops a component every service of the machine shares: never on a machine others use.

export const FAULT_NAMES = ['kafka', 'mysql'] as const
export type FaultName = typeof FAULT_NAMES[number]

export interface FaultPlan { name: FaultName, afterAnswered: number, downMs: number }

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
  #cycle: Promise<{ stoppedAt: number, startedAt: number | null, error: string | null }> | null = null

  constructor (plan: FaultPlan, log: (message: string) => void) {
    this.#plan = plan
    this.#log = log
  }

  /** Called after every answer: the first call past `afterAnswered` starts the stop-wait-start cycle. */
  onAnswered (answered: number): void {
    if (this.#cycle !== null || answered < this.#plan.afterAnswered) return
    this.#cycle = this.#run()
  }

  async #run (): Promise<{ stoppedAt: number, startedAt: number | null, error: string | null }> {
    const name = COMPONENT[this.#plan.name]
    const stoppedAt = Date.now()
    this.#log(`fault: stopping ${name} for ${this.#plan.downMs} ms`)
    try {
      await component('stop', name)
      await new Promise((resolve) => setTimeout(resolve, this.#plan.downMs))
      await component('start', name)
      this.#log(`fault: ${name} started again`)
      return { stoppedAt, startedAt: Date.now(), error: null }
    } catch (error) {
      return { stoppedAt, startedAt: null, error: (error as Error).message }
    }
  }

  /** Waits until the component is back (or never went away), in ms since `epochAt0`. */
  async over (epochAt0: number): Promise<FaultOutcome | null> {
    if (this.#cycle === null) return null
    const { stoppedAt, startedAt, error } = await this.#cycle
    return { name: this.#plan.name, stoppedAtMs: stoppedAt - epochAt0, startedAtMs: startedAt === null ? null : startedAt - epochAt0, error }
  }
}
