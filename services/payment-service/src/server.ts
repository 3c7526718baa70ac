import { main, serve } from '@flash/common'
import { loadPaymentConfig } from './config.ts'
import { buildApp, SERVICE } from './app.ts'

await main(SERVICE, async () => {
  const config = loadPaymentConfig()
  const app = await buildApp(config)
  await serve(app, { service: SERVICE, host: config.PAYMENT_HOST, port: config.PAYMENT_PORT, graceSeconds: config.SHUTDOWN_GRACE_SECONDS })
})
