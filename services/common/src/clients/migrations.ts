import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createConnection } from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2/promise'
import type { MysqlConfig } from './mysql.ts'

// Versioned schema migrations: `migrations/NNN_name.sql` at the repository root (copied into every
// service image), applied in number order, each once, recorded in `schema_migrations`. One runner for
// `make local`, Compose (the one-shot `migrate` service) and the tests. A schema change is a new file:
// an applied file whose text changed stops the runner, since the database did not get the new text.

export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'migrations')
const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/
/** Held while migrating: two runners started at once (replicas, Compose and a test) take turns. */
const LOCK = 'flash_sale_schema_migrations'

export interface Migration { version: number, name: string, sql: string, checksum: string }

export async function readMigrations (dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => FILE.test(f)).sort()
  const migrations: Migration[] = []
  for (const file of files) {
    const [, version = '', name = ''] = FILE.exec(file) ?? []
    const sql = await readFile(join(dir, file), 'utf8')
    migrations.push({ version: Number(version), name, sql, checksum: createHash('sha256').update(sql).digest('hex') })
  }
  const versions = migrations.map((m) => m.version)
  if (new Set(versions).size !== versions.length) throw new Error(`two migrations share a number in ${dir}: ${versions.join(', ')}`)
  return migrations
}

/** Applies the migrations the database lacks; returns the names of those it applied. */
export async function migrate (config: MysqlConfig, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir)
  const conn = await createConnection({
    host: config.MYSQL_HOST,
    port: config.MYSQL_PORT,
    user: config.MYSQL_USER,
    password: config.MYSQL_PASSWORD,
    database: config.MYSQL_DATABASE,
    multipleStatements: true,
    connectTimeout: 5000
  })
  try {
    const [[lock]] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 120) AS got', [LOCK])
    if (Number(lock?.got) !== 1) throw new Error('another migration runner held the lock for 120 s')
    await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INT UNSIGNED NOT NULL,
      name       VARCHAR(100) NOT NULL,
      checksum   CHAR(64)     NOT NULL,
      applied_at DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      PRIMARY KEY (version)
    ) ENGINE = InnoDB DEFAULT CHARSET = ascii COLLATE = ascii_bin`)
    const [rows] = await conn.query<RowDataPacket[]>('SELECT version, name, checksum FROM schema_migrations')
    const applied = new Map(rows.map((r) => [Number(r.version), { name: String(r.name), checksum: String(r.checksum) }]))
    const done: string[] = []
    for (const m of migrations) {
      const before = applied.get(m.version)
      if (before !== undefined) {
        if (before.checksum !== m.checksum) {
          throw new Error(`migration ${m.version}_${m.name} was edited after it was applied: add a new migration instead`)
        }
        continue
      }
      await conn.query(m.sql)
      await conn.query('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)', [m.version, m.name, m.checksum])
      done.push(`${String(m.version).padStart(3, '0')}_${m.name}`)
    }
    return done
  } finally {
    await conn.query('DO RELEASE_LOCK(?)', [LOCK]).catch(() => {})
    await conn.end()
  }
}
