import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router.ts'
import './style.css'
import { errorMessage } from './i18n.ts'

const app = createApp(App)
// A render error must not leave a blank page: App shows it in a banner.
app.config.errorHandler = (err, _instance, info) => {
  console.error(err, info)
  // The banner speaks the UI's language (the details stay in the console).
  window.dispatchEvent(new CustomEvent('app-error', { detail: errorMessage(err) }))
}
app.use(router).mount('#app')
