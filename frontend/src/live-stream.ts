// The live sale view's event stream (GET /api/admin/live, docs/ARCHITECTURE.md §11), read with
// fetch(): EventSource cannot send the admin's Authorization header. Pure functions: the parsing of
// server-sent events and what a page keeps of them, with no Vue and no network.
// Relative, not @backend/…: the stack test of the stream reads it with this very code, type-checked by the root tsconfig.
import type { LivePoint } from '../../services/catalog-service/src/schemas.ts'

export type { LivePoint }

export interface ServerEvent { event: string; data: string }

/** Complete events in `buffer` (text received so far) and the incomplete rest to keep for the next chunk. */
export function parseServerEvents(buffer: string): { events: ServerEvent[]; rest: string } {
  const events: ServerEvent[] = []
  const blocks = buffer.replace(/\r\n?/g, '\n').split('\n\n')
  const rest = blocks.pop() ?? ''
  for (const block of blocks) {
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') })
  }
  return { events, rest }
}

/** The points of one event: a `history` carries many, a `point` one; anything else none. */
export function pointsOf(event: ServerEvent): LivePoint[] {
  if (event.event === 'point') return [JSON.parse(event.data) as LivePoint]
  if (event.event === 'history') return (JSON.parse(event.data) as { points: LivePoint[] }).points
  return []
}

/**
 * Adds points to a product's series (oldest first, one per second, at most `keep`): a second seen
 * twice (history after a reconnect) is kept once.
 */
export function addPoints(series: readonly LivePoint[], points: readonly LivePoint[], keep: number): LivePoint[] {
  const bySecond = new Map(series.map((p) => [p.at, p]))
  for (const point of points) bySecond.set(point.at, point)
  return [...bySecond.values()].sort((a, b) => a.at - b.at).slice(-keep)
}

/**
 * Opens the stream and hands every event to `onEvent` until `signal` aborts or the server ends it;
 * resolves when it ended, rejects with the answer's status when it was refused.
 */
export async function readLiveStream(url: string, token: string, signal: AbortSignal, onEvent: (event: ServerEvent) => void): Promise<void> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal })
  if (!res.ok || res.body === null) throw new LiveStreamRefused(res.status)
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    const parsed = parseServerEvents(buffer + value)
    buffer = parsed.rest
    for (const event of parsed.events) onEvent(event)
  }
}

export class LiveStreamRefused extends Error {
  readonly status: number
  constructor(status: number) {
    super(`live view refused: HTTP ${status}`)
    this.name = 'LiveStreamRefused'
    this.status = status
  }
}
