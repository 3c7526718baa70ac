import { createRequire } from 'node:module'

// kafkajs 2.2.4 keeps every broker connection's request queue polling once a millisecond forever:
// after each response `checkPendingRequests` re-arms a timer for `throttledUntil - Date.now()`, which
// is negative when nothing is throttled (Node clamps it to 1 ms, and Node 24 warns about it). Measured
// here: an idle producer connection spent ~42 ms of CPU per second and set ~870 timers per second;
// with the fix below, ~2 ms and none. Every gateway and processor holds such connections, so the loop
// is paid on every core all the time, under load too (kafkajs issues #1704 and #1751, unreleased
// fixes #1755/#1768).
//
// The fix: arm the timer only when a request is waiting. Nothing is lost by it: `push` calls
// `scheduleCheckPendingRequests` itself whenever it queues a request, and a full in-flight window is
// re-checked on every response. Applied once per process, to the one copy of kafkajs that
// `createKafka` uses, and only to the version read and measured (an upgrade is checked by the
// unit test, which fails until this is re-examined).

export const PATCHED_KAFKAJS_VERSION = '2.2.4'

interface RequestQueueLike {
  pending: unknown[]
  scheduleCheckPendingRequests: () => void
}

const require = createRequire(import.meta.url)
let applied: boolean | undefined

/** Makes kafkajs's request queues idle when idle; true once applied (idempotent). */
export function quietKafkaRequestQueues (): boolean {
  if (applied !== undefined) return applied
  const version = (require('kafkajs/package.json') as { version: string }).version
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike }
  const original = RequestQueue.prototype.scheduleCheckPendingRequests
  applied = version === PATCHED_KAFKAJS_VERSION && typeof original === 'function'
  if (applied) {
    RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueLike) {
      if (this.pending.length === 0) return
      original.call(this)
    }
  }
  return applied
}
