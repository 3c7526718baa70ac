import { main, serve } from '@flash/common'
import { loadCatalogConfig } from './config.ts'
import { buildApp, SERVICE } from './app.ts'

await main(SERVICE, async () => {
  const config = loadCatalogConfig()
  const app = await buildApp(config)
  await serve(app, { service: SERVICE, host: config.CATALOG_HOST, port: config.CATALOG_PORT, graceSeconds: config.SHUTDOWN_GRACE_SECONDS })
})
