import { main, serve } from '@flash/common'
import { loadProcessorConfig } from './config.ts'
import { buildApp } from './app.ts'

await main('order-processor', async () => {
  const config = loadProcessorConfig()
  const app = await buildApp(config)
  await serve(app, { service: 'order-processor', host: config.PROCESSOR_HOST, port: config.PROCESSOR_PORT, graceSeconds: config.SHUTDOWN_GRACE_SECONDS })
})
