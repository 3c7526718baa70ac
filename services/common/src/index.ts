// The whole of @flash/common. A caller that needs one part imports its entry point instead
// (@flash/common/contracts, /platform, /clients, /stock, /auth, /room): it loads only that part.
export * from './contracts/index.ts'
export * from './platform/index.ts'
export * from './clients/index.ts'
export * from './stock/index.ts'
export * from './auth/index.ts'
export * from './room/index.ts'
