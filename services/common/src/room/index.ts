export * from './store.ts'
export * from './pass.ts'
export * from './decisions.ts'
