// Who is buying and who is administering.
// - The buyer's session lives in httpOnly cookies set by /api/auth: this code never sees a
//   token; it only knows who is signed in (GET /auth/me). Nobody picks a buyer id any more.
// - A guest's orders are followed with their receipts, kept in localStorage: every tab of this
//   browser sees them, and they outlive a sign-in.
// - The admin token lives in sessionStorage only, so it goes away with the tab and is never written
//   to disk for good.
import { ref, watch } from 'vue'
import { currentBuyer, login, logout, register, type Buyer } from './api.ts'

export const buyer = ref<Buyer | null>(null)
/** false until the first GET /auth/me has answered */
export const sessionKnown = ref(false)

// Whether this browser signed in last time. The session cookies are httpOnly, so a guest's page could
// only find out by asking /auth/me and /auth/refresh, two 401s on every page load; the hint spares them.
const SIGNED_IN_KEY = 'flash.signedIn'

export async function loadSession(): Promise<void> {
  try {
    buyer.value = localStorage.getItem(SIGNED_IN_KEY) === '1' ? await currentBuyer() : null
  } catch {
    buyer.value = null
  } finally {
    sessionKnown.value = true
  }
}
watch(buyer, (who) => {
  if (who === null) localStorage.removeItem(SIGNED_IN_KEY)
  else localStorage.setItem(SIGNED_IN_KEY, '1')
})

/** The sign-in dialog, opened from the header or from a product that needs an account. */
export const signInOpen = ref(false)
export function openSignIn(): void {
  signInOpen.value = true
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
    const parsed: unknown = JSON.parse(localStorage.getItem(RECEIPTS_KEY) ?? '{}')
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
  } catch {
    return {}
  }
}

/** orderId → receipt of the guest orders placed in this browser (or looked up by id and receipt) */
export const receipts = ref<Record<string, string>>(readReceipts())
watch(receipts, (all) => localStorage.setItem(RECEIPTS_KEY, JSON.stringify(all)), { deep: true })
// Another tab's new guest order shows up here too.
window.addEventListener('storage', (event) => {
  if (event.key === RECEIPTS_KEY) receipts.value = readReceipts()
})

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

// Who holds the token, when an operator signed in (null for the pasted admin token): shown, not trusted —
// every service checks the token itself.
const OPERATOR_KEY = 'flash.operator'
export interface SignedInOperator { username: string; role: 'admin' | 'viewer' }
function storedOperator(): SignedInOperator | null {
  try {
    return JSON.parse(sessionStorage.getItem(OPERATOR_KEY) ?? 'null') as SignedInOperator | null
  } catch {
    return null
  }
}
export const operator = ref<SignedInOperator | null>(storedOperator())
watch(operator, (who) => {
  if (who === null) sessionStorage.removeItem(OPERATOR_KEY)
  else sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(who))
})
watch(adminToken, (token) => { if (token === null) operator.value = null })
