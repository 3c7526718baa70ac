export * from './answer-times.ts'
export * from './store.ts'
