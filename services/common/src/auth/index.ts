export * from './tokens.ts'
export * from './secret.ts'
export * from './session.ts'
export * from './callers.ts'
