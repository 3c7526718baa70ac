import { loadConfig, MysqlEnv } from '../platform/config.ts'
import { migrate } from '../clients/migrations.ts'

// `node services/common/src/scripts/migrate.ts`: brings the database named by MYSQL_* up to the
// newest migration (make local, the Compose one-shot `migrate`). Exit 1 with the reason otherwise.
try {
  const applied = await migrate(loadConfig(MysqlEnv))
  console.log(applied.length === 0 ? 'migrate: schema is current' : `migrate: applied ${applied.join(', ')}`)
} catch (error) {
  console.error(`migrate: ${(error as Error).message}`)
  process.exitCode = 1
}
