import { Type } from '@sinclair/typebox'
import { ConfigError } from '../platform/config.ts'

// AUTH_JWT_SECRET: the one secret behind buyer sessions and guest receipts (keys are derived from it,
// see tokens.ts). The catalog and every gateway must share it.
//
// Policy (documented in .env.example and docs/ARCHITECTURE.md §4):
// - NODE_ENV=production (the default, also for `make local` and `make up`): the service does not start
//   when the secret is missing, shorter than 32 characters, or a known placeholder.
// - .env.example ships a long value marked local-only, so `make local` / `make up` work out of the box
//   on one machine; the service logs a warning when it runs with exactly that value. A real deployment
//   sets its own (`openssl rand -base64 48`).
// - development/test: a missing secret falls back to a fixed development value, with a warning.

export const AuthEnv = {
  AUTH_JWT_SECRET: Type.String({ default: '', description: 'signing secret of buyer sessions and guest receipts (≥ 32 characters)' })
}

export const MIN_AUTH_SECRET_LENGTH = 32
/** the value .env.example ships: accepted, with a warning (see above) */
export const LOCAL_AUTH_JWT_SECRET = 'local-only-flash-sale-secret-replace-me-in-any-real-deployment-7f3a9c'
/** placeholders a copied config may still contain: refused in production */
const PLACEHOLDERS = new Set(['change-me', 'changeme', 'secret', 'your-secret', 'replace-me', 'jwt-secret'])
const DEVELOPMENT_FALLBACK = 'development-only-flash-sale-secret-never-used-in-production'

export interface AuthSecret { secret: string, warning: string | undefined }

/** The secret to use, or a ConfigError naming AUTH_JWT_SECRET. */
export function resolveAuthSecret (config: { NODE_ENV: string, AUTH_JWT_SECRET: string }): AuthSecret {
  const secret = config.AUTH_JWT_SECRET
  if (config.NODE_ENV !== 'production') {
    if (secret === '') return { secret: DEVELOPMENT_FALLBACK, warning: `AUTH_JWT_SECRET is not set: using a fixed development secret (NODE_ENV=${config.NODE_ENV})` }
    return { secret, warning: undefined }
  }
  if (secret === '') throw new ConfigError(['AUTH_JWT_SECRET=missing: required with NODE_ENV=production (the signing secret of buyer sessions; e.g. `openssl rand -base64 48`)'])
  if (PLACEHOLDERS.has(secret.toLowerCase())) throw new ConfigError(['AUTH_JWT_SECRET is a placeholder: set a random secret of at least 32 characters'])
  if (secret.length < MIN_AUTH_SECRET_LENGTH) throw new ConfigError([`AUTH_JWT_SECRET is too short (${secret.length} characters): at least ${MIN_AUTH_SECRET_LENGTH} are required with NODE_ENV=production`])
  return {
    secret,
    warning: secret === LOCAL_AUTH_JWT_SECRET
      ? 'AUTH_JWT_SECRET is the local-only value from .env.example: fine on one machine, set your own for a real deployment'
      : undefined
  }
}
