// What services agree on: error codes, shared schemas, ids, Redis keys, Kafka messages and the order record.
export * from './errors.ts'
export * from './schemas.ts'
export * from './ids.ts'
export * from './keys.ts'
export * from './messages.ts'
export * from './order-record.ts'
