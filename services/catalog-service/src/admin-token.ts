import { ConfigError } from '@flash/common'

// ADMIN_TOKEN: whoever holds it creates, restocks and archives products and reads every buyer's
// orders. The same policy as AUTH_JWT_SECRET (services/common/src/auth/secret.ts):
// - NODE_ENV=production (the default, also for `make local` and `make up`): the catalog does not
//   start when the token is a known placeholder (the value the README and older .env files show
//   included) or shorter than 24 characters.
// - .env.example ships a long value marked local-only, so `make local` / `make up` work out of the
//   box on one machine; the catalog logs a warning when it runs with exactly that value.
// - development/test: anything the schema accepts, as before.

export const MIN_ADMIN_TOKEN_LENGTH = 24
/** the value .env.example ships: accepted, with a warning */
export const LOCAL_ADMIN_TOKEN = 'local-only-flash-sale-admin-token-replace-me-in-any-real-deployment'
/** placeholders a copied config may still contain: refused in production */
const PLACEHOLDERS = new Set([
  'change-me-admin-token', 'change-me', 'changeme', 'admin', 'admin-token', 'administrator', 'password', 'secret', 'token'
])

export interface AdminToken { token: string, warning: string | undefined }

/** The admin token to use, or a ConfigError naming ADMIN_TOKEN. */
export function resolveAdminToken (config: { NODE_ENV: string, ADMIN_TOKEN: string }): AdminToken {
  const token = config.ADMIN_TOKEN
  if (config.NODE_ENV !== 'production') return { token, warning: undefined }
  if (PLACEHOLDERS.has(token.trim().toLowerCase())) {
    throw new ConfigError(['ADMIN_TOKEN is a placeholder: set a random token of at least 24 characters (e.g. `openssl rand -base64 32`)'])
  }
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError([`ADMIN_TOKEN is too short (${token.length} characters): at least ${MIN_ADMIN_TOKEN_LENGTH} are required with NODE_ENV=production`])
  }
  return {
    token,
    warning: token === LOCAL_ADMIN_TOKEN
      ? 'ADMIN_TOKEN is the local-only value from .env.example: fine on one machine, set your own for a real deployment'
      : undefined
  }
}
