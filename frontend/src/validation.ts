// Client-side checks that mirror the catalog API's schema limits, so the admin sees the problem
// next to the field before a request is sent. The API stays the authority: its 400 message is
// shown too if the two ever drift.
import type { MessageKey, Params } from './i18n.ts'

export const LIMITS = {
  nameMax: 200,
  stockMax: 1_000_000,
  priceMaxCents: 100_000_000,
  imageUrlMax: 2048,
  perUserLimitMax: 1000,
  restockMax: 1_000_000,
  paymentWindowMin: 5,
  paymentWindowMax: 86_400,
} as const

/** A translatable problem with one field, or null when the value is fine. */
export type FieldError = { key: MessageKey; params?: Params } | null

export function checkName(name: string): FieldError {
  if (name.trim() === '') return { key: 'form.nameRequired' }
  if (name.length > LIMITS.nameMax) return { key: 'form.nameTooLong' }
  return null
}

/** Parses a whole number typed into an input; NaN for anything else ("1.5", "", "1e3"). */
export function parseWhole(text: string): number {
  const s = text.trim()
  return /^\d+$/.test(s) ? Number(s) : Number.NaN
}

export function checkInt(text: string, min: number, max: number): FieldError {
  const n = parseWhole(text)
  if (!Number.isSafeInteger(n) || n < min || n > max) return { key: 'form.intRange', params: { min, max } }
  return null
}

/** "12.5" yuan → 1250 cents; NaN when not a non-negative amount with at most two decimals. */
export function parsePriceCents(text: string): number {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim())
  if (match === null) return Number.NaN
  const yuan = match[1] ?? '0'
  const fraction = (match[2] ?? '').padEnd(2, '0')
  return Number(yuan) * 100 + Number(fraction)
}

export function checkPrice(text: string): FieldError {
  const cents = parsePriceCents(text)
  if (!Number.isSafeInteger(cents) || cents < 0 || cents > LIMITS.priceMaxCents) return { key: 'form.priceRange' }
  return null
}

export function checkImageUrl(text: string): FieldError {
  const s = text.trim()
  if (s === '') return null
  if (s.length > LIMITS.imageUrlMax) return { key: 'form.urlInvalid' }
  try {
    const url = new URL(s)
    return url.protocol === 'http:' || url.protocol === 'https:' ? null : { key: 'form.urlInvalid' }
  } catch {
    return { key: 'form.urlInvalid' }
  }
}

export function checkPerUserLimit(text: string): FieldError {
  return text.trim() === '' ? null : checkInt(text, 1, LIMITS.perUserLimitMax)
}

export function centsToYuanText(cents: number): string {
  return (cents / 100).toFixed(2)
}

// --- sale windows -------------------------------------------------------------------------------

/** An ISO instant as a <input type="datetime-local" step="1"> value, in this browser's time zone. */
export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  const two = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
}

/** A datetime-local value (this browser's time zone) as UTC ISO 8601; null when empty or invalid. */
export function localInputToIso(value: string): string | null {
  if (value.trim() === '') return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}

export function checkWindow(starts: string, ends: string): { starts: FieldError; ends: FieldError } {
  const startIso = localInputToIso(starts)
  const endIso = localInputToIso(ends)
  const result: { starts: FieldError; ends: FieldError } = {
    starts: starts.trim() !== '' && startIso === null ? { key: 'form.dateInvalid' } : null,
    ends: ends.trim() !== '' && endIso === null ? { key: 'form.dateInvalid' } : null,
  }
  if (startIso !== null && endIso !== null && Date.parse(endIso) <= Date.parse(startIso)) result.ends = { key: 'form.windowOrder' }
  return result
}
