// Who is buying and who is administering. The buyer id is generated once per browser and kept
// in localStorage (editable); the admin token lives in sessionStorage only, so it goes away
// with the tab and is never written to disk for good.
import { ref, watch } from 'vue'
import { newIdempotencyKey } from './api.ts'

const USER_KEY = 'flash.userId'
const TOKEN_KEY = 'flash.adminToken'

function initialUserId(): string {
  const saved = localStorage.getItem(USER_KEY)
  if (saved !== null && saved.trim() !== '') return saved
  const id = `buyer-${newIdempotencyKey().slice(0, 8)}`
  localStorage.setItem(USER_KEY, id)
  return id
}

export const userId = ref(initialUserId())
watch(userId, (id) => {
  if (id.trim() !== '') localStorage.setItem(USER_KEY, id.trim())
})

export const adminToken = ref<string | null>(sessionStorage.getItem(TOKEN_KEY))
watch(adminToken, (token) => {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY)
  else sessionStorage.setItem(TOKEN_KEY, token)
})
