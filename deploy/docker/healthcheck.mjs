// HEALTHCHECK of the service images: GET /health/ready on the service's own port, exit 0 when it
// answers 2xx. Runs with the image's Node (alpine has no curl); plain JavaScript so it needs no
// type stripping. The port variable is the one the service itself reads (.env.example).
const portVariable = {
  'catalog-service': ['CATALOG_PORT', 3001],
  'order-gateway': ['GATEWAY_PORT', 3002],
  'order-processor': ['PROCESSOR_PORT', 3003],
  'payment-service': ['PAYMENT_PORT', 3004]
}
const service = process.env.SERVICE ?? ''
const entry = portVariable[service]
if (!entry) {
  console.error(`healthcheck: unknown SERVICE ${JSON.stringify(service)}`)
  process.exit(2)
}
const [name, fallback] = entry
const port = process.env[name] || fallback
try {
  const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(3000) })
  if (!res.ok) {
    console.error(`healthcheck: /health/ready answered ${res.status}: ${(await res.text()).slice(0, 500)}`)
    process.exit(1)
  }
} catch (error) {
  console.error(`healthcheck: ${error.message}`)
  process.exit(1)
}
