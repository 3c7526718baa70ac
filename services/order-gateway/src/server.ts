import { main, serve } from '@flash/common'
import { loadGatewayConfig } from './config.ts'
import { buildApp, SERVICE } from './app.ts'

await main(SERVICE, async () => {
  const config = loadGatewayConfig()
  const app = await buildApp(config)
  await serve(app, { service: SERVICE, host: config.GATEWAY_HOST, port: config.GATEWAY_PORT, graceSeconds: config.SHUTDOWN_GRACE_SECONDS })
})
