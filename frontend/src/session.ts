// Who is buying and who is administering.
// - The buyer's session lives in httpOnly cookies set by /api/auth: this code never sees a
//   token; it only knows who is signed in (GET /auth/me). Nobody picks a buyer id any more.
// - A guest's orders are followed with their receipts, kept in sessionStorage (this tab only).
// - The admin token lives in sessionStorage only, so it goes away with the tab and is never written
//   to disk for good.
import { ref, watch } from 'vue'
import { currentBuyer, login, logout, register, type Buyer } from './api.ts'

export const buyer = ref<Buyer | null>(null)
/** false until the first GET /auth/me has answered */
export const sessionKnown = ref(false)

export async function loadSession(): Promise<void> {
  try {
    buyer.value = await currentBuyer()
  } catch {
    buyer.value = null
  } finally {
    sessionKnown.value = true
  }
}

export async function signIn(username: string, password: string, newAccount: boolean): Promise<void> {
  const session = newAccount ? await register(username, password) : await login(username, password)
  buyer.value = session.buyer
}

export async function signOut(): Promise<void> {
  try {
    await logout()
  } finally {
    buyer.value = null
  }
}

// --- guest receipts ----------------------------------------------------------------------------

const RECEIPTS_KEY = 'flash.receipts'

function readReceipts(): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(RECEIPTS_KEY) ?? '{}')
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
  } catch {
    return {}
  }
}

/** orderId → receipt of the guest orders placed in this tab */
export const receipts = ref<Record<string, string>>(readReceipts())
watch(receipts, (all) => sessionStorage.setItem(RECEIPTS_KEY, JSON.stringify(all)), { deep: true })

export function rememberReceipt(orderId: string, receipt: string): void {
  receipts.value = { ...receipts.value, [orderId]: receipt }
}

export function receiptFor(orderId: string): string | undefined {
  return receipts.value[orderId]
}

// --- admin -------------------------------------------------------------------------------------

const TOKEN_KEY = 'flash.adminToken'

export const adminToken = ref<string | null>(sessionStorage.getItem(TOKEN_KEY))
watch(adminToken, (token) => {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY)
  else sessionStorage.setItem(TOKEN_KEY, token)
})
