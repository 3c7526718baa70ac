import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router.ts'
import './style.css'

const app = createApp(App)
// A render error must not leave a blank page: App shows it in a banner.
app.config.errorHandler = (err, _instance, info) => {
  console.error(err, info)
  window.dispatchEvent(new CustomEvent('app-error', { detail: err instanceof Error ? err.message : String(err) }))
}
app.use(router).mount('#app')
