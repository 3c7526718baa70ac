import { monotonicFactory } from 'ulid'

// Order ids are ULIDs: time-ordered (newest-first listing is an index scan) and unique across gateway
// replicas. The id is the orders table's primary key, which is what makes a redelivery harmless (I3).
const nextUlid = monotonicFactory()

export const newOrderId = (): string => nextUlid()

export const ORDER_ID_PATTERN = '^[0-9A-HJKMNP-TV-Z]{26}$'
const orderIdRe = new RegExp(ORDER_ID_PATTERN)
export const isOrderId = (value: string): boolean => orderIdRe.test(value)

/** A token naming one stock change in flight (a processor batch, a restock). */
export const newChangeToken = (owner: string): string => `${owner}:${nextUlid()}`
