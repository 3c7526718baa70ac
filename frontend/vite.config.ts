import { defineConfig, type ProxyOptions } from 'vite'
import vue from '@vitejs/plugin-vue'

// `npm run dev` proxies the same paths as deploy/nginx/nginx.conf.template, so the app talks to
// the services through one origin in development too. Upstreams default to the local ports.
const catalog = `http://${process.env.CATALOG_UPSTREAM ?? '127.0.0.1:3001'}`
const gateway = `http://${process.env.GATEWAY_UPSTREAM ?? '127.0.0.1:3002'}`
const processor = `http://${process.env.PROCESSOR_UPSTREAM ?? '127.0.0.1:3003'}`

const stripApi = (target: string): ProxyOptions => ({
  target,
  changeOrigin: true,
  rewrite: (path) => path.replace(/^\/api/, ''),
})
const docs = (target: string, prefix: string): ProxyOptions => ({
  target,
  changeOrigin: true,
  rewrite: (path) => path.replace(new RegExp(`^${prefix}`), '/docs'),
})

export default defineConfig({
  plugins: [vue()],
  server: {
    port: 5173,
    proxy: {
      '/api/products': stripApi(catalog),
      '/api/admin': stripApi(catalog),
      // buyer accounts and sessions live in the catalog
      '/api/auth': stripApi(catalog),
      '/api/orders': stripApi(gateway),
      '/docs/catalog': docs(catalog, '/docs/catalog'),
      '/docs/gateway': docs(gateway, '/docs/gateway'),
      '/docs/processor': docs(processor, '/docs/processor'),
    },
  },
  build: {
    // Hashed file names under /assets/ are what nginx caches for a year.
    assetsDir: 'assets',
    sourcemap: false,
  },
})
