// The clients of MySQL, the Redis Cluster (and its Lua scripts) and Kafka, and which of their errors are transient.
export * from './mysql.ts'
export * from './redis.ts'
export * from './kafka.ts'
export * from './lua.ts'
export * from './transient.ts'
