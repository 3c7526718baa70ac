import { createPool, type Pool, type PoolOptions } from 'mysql2/promise'
import type { Static, TObject } from '@sinclair/typebox'
import type { MysqlEnv } from '../platform/config.ts'

export type MysqlConfig = Static<TObject<typeof MysqlEnv>>

export function createMysqlPool (config: MysqlConfig, overrides: Partial<PoolOptions> = {}): Pool {
  return createPool({
    host: config.MYSQL_HOST,
    port: config.MYSQL_PORT,
    user: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.MYSQL_DATABASE,
    connectionLimit: config.MYSQL_POOL_SIZE,
    waitForConnections: true,
    // BIGINT ids fit in a JS number here (auto-increment); DATETIME(3) comes back as Date objects.
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: false,
    timezone: 'Z',
    connectTimeout: 5000,
    enableKeepAlive: true,
    ...overrides
  })
}

export async function pingMysql (pool: Pool): Promise<void> {
  await pool.query('SELECT 1')
}

export type { Pool }
