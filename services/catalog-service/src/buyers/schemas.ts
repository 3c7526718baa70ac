import { Type, type Static } from '@sinclair/typebox'

// The HTTP contract of /auth/*. Validation names the field: `body/username must match
// pattern …`, `body/password must NOT have more than 128 characters`.

export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]+$'
export const Username = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: USERNAME_PATTERN,
  description: '3–32 characters: letters, digits, _ . - (case-insensitively unique)'
})
export const Password = Type.String({ minLength: 8, maxLength: 128, description: '8–128 characters' })

export const Credentials = Type.Object({
  username: Username,
  password: Password,
  cookies: Type.Optional(Type.Boolean({
    default: true,
    description: 'false: answer with the access token only and set no cookie (scripts, the simulator signing many buyers in from one browser)'
  }))
}, { additionalProperties: false })
export type Credentials = Static<typeof Credentials>

/** Sign-up: credentials, and the solved challenge when the operator asks for proof of work. */
export const Registration = Type.Object({
  ...Credentials.properties,
  proof: Type.Optional(Type.Object({
    challenge: Type.String({ minLength: 1, maxLength: 512 }),
    nonce: Type.String({ minLength: 1, maxLength: 64 })
  }, { additionalProperties: false, description: 'GET /auth/challenge, then a nonce with SHA-256(challenge + ":" + nonce) starting with `bits` zero bits' }))
}, { additionalProperties: false })

export const Challenge = Type.Object({
  challenge: Type.String(),
  bits: Type.Integer({ minimum: 0, description: 'leading zero bits the hash must have; 0: sign-up needs no proof' }),
  expiresAt: Type.String({ format: 'date-time' })
})
export type Challenge = Static<typeof Challenge>

export const PasswordChange = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: 128 }),
  newPassword: Password
}, { additionalProperties: false })

export const BuyerView = Type.Object({
  id: Type.String({ description: 'the buyer id: `sub` of its access tokens, `userId` of its orders' }),
  username: Type.String(),
  createdAt: Type.String({ format: 'date-time' })
})
export type BuyerView = Static<typeof BuyerView>

/** What a sign-in answers besides who signed in (buyers here, operators in ../schemas.ts). */
export const BearerToken = {
  accessToken: Type.String({ description: 'HS256 JWT; send as `Authorization: Bearer <token>` (a buyer\'s browser uses the httpOnly cookie instead)' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' })
}

export const SessionView = Type.Object({ buyer: BuyerView, ...BearerToken })
export type SessionView = Static<typeof SessionView>
