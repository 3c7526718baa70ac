// How a service is built and run: typed config, logging, the Fastify app with health, metrics,
// OpenAPI and error conventions, admin checks, the server's start and graceful stop.
export * from './config.ts'
export * from './logger.ts'
export * from './sleep.ts'
export * from './app.ts'
export * from './admin.ts'
export * from './server.ts'
export type { ReadinessCheck } from './health.ts'
