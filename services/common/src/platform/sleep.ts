import { setTimeout as delay } from 'node:timers/promises'

/** Waits `ms` milliseconds (backoff between retries, polling in tests). */
export const sleep = (ms: number): Promise<void> => delay(ms)
