// Stock in Redis: reservations, the ledger, compensation and sync, each step one Lua script.
export * from './store.ts'
